// The files of one container's shim directory (<state_dir>/<id>/), shared by the shim and the
// client, and the launch record the client writes for the shim.
//
//   launch.json     what to create: id, bundle, rootfs mount, log path, cgroupsPath (client)
//   shim.sock       the shim's control socket
//   shim.pid        the shim's pid
//   container.pid   the container process's host pid
//   state.json      the live state, rewritten at each change
//   exit.json       how the container ended, written before the shim exits
//   shim.log        the shim's own log
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/file.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct ShimPaths {
  std::string dir;

  std::string launch() const { return JoinPath(dir, "launch.json"); }
  std::string socket() const { return JoinPath(dir, "shim.sock"); }
  std::string shim_pid() const { return JoinPath(dir, "shim.pid"); }
  std::string container_pid() const { return JoinPath(dir, "container.pid"); }
  std::string state() const { return JoinPath(dir, "state.json"); }
  std::string exit() const { return JoinPath(dir, "exit.json"); }
  std::string log() const { return JoinPath(dir, "shim.log"); }
};

struct LaunchRecord {
  std::string id;
  std::string bundle_dir;  // holds config.json
  std::optional<Mount> rootfs_mount;
  std::string log_path;      // CRI log file; empty drops the output
  std::string cgroups_path;  // effective cgroupsPath, so cleanup works without the bundle
};

absl::Status WriteLaunchRecord(const std::string& path, const LaunchRecord& record);
absl::StatusOr<LaunchRecord> ReadLaunchRecord(const std::string& path);

// Reads <bundle>/config.json and makes root.path absolute (OCI allows it relative to the bundle).
absl::StatusOr<Spec> ReadBundleSpec(const std::string& bundle_dir);

}  // namespace berth::runtime
