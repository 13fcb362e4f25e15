// The records Berth keeps for each sandbox and container, and their JSON form on disk
// (<root>/sandboxes/<id>/sandbox.json and <root>/containers/<id>/container.json).
// The CRI config a client sent is stored as protobuf JSON, so a restarted berthd reports it
// exactly as received.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "runtime/v1/api.pb.h"

namespace berth::pod {

enum class SandboxState { kReady, kNotReady };

struct SandboxRecord {
  std::string id;
  ::runtime::v1::PodSandboxConfig config;
  std::string runtime_handler;
  SandboxState state = SandboxState::kNotReady;
  int64_t created_at = 0;       // nanoseconds since the epoch
  std::string dir;              // <root>/sandboxes/<id>: pod files and the pause rootfs
  std::string netns_path;       // pinned network namespace; empty for host networking
  std::string userns_path;      // pinned user namespace; empty when the pod has none
  std::string cgroup_parent;    // cgroup of the pod; the pause and every container sit below it
  bool owns_cgroup_parent = false;  // Berth made the pod cgroup, so Berth removes it
  int pause_pid = 0;            // pid of berth-pause in the host's pid namespace
  std::string ip;               // pod IP, empty until CNI assigns one
  std::vector<std::string> additional_ips;  // further pod IPs (e.g. IPv6 beside IPv4)
};

struct ContainerRecord {
  std::string id;
  std::string sandbox_id;
  ::runtime::v1::ContainerConfig config;
  std::string image_ref;        // the image as the client named it
  std::string image_id;         // "sha256:<config digest>"
  std::string log_path;         // absolute path of the CRI log file; empty when none was asked
  int64_t created_at = 0;       // nanoseconds since the epoch
  std::string dir;              // <root>/containers/<id>: bundle and writable layer
};

// Names reserved for objects: CRI forbids two with the same metadata.
std::string SandboxName(const ::runtime::v1::PodSandboxMetadata& metadata);
std::string ContainerName(const ::runtime::v1::ContainerMetadata& metadata,
                          const ::runtime::v1::PodSandboxMetadata& sandbox);

nlohmann::json ToJson(const SandboxRecord& record);
absl::StatusOr<SandboxRecord> SandboxFromJson(const nlohmann::json& json);
nlohmann::json ToJson(const ContainerRecord& record);
absl::StatusOr<ContainerRecord> ContainerFromJson(const nlohmann::json& json);

}  // namespace berth::pod
