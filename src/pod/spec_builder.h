// Builds the OCI runtime spec of a sandbox's pause process and of a container, from the CRI
// configs, the image's defaults and what the sandbox already made (netns, pod files, cgroup).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pod/records.h"
#include "pod/user_spec.h"
#include "runtime/spec.h"
#include "runtime/v1/api.pb.h"

namespace berth::pod {

// The parts of an image config that shape a container's process.
struct ImageDefaults {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;  // "uid", "uid:gid", "name" or "name:group"; empty for root
  std::vector<std::string> layer_dirs;  // unpacked layers, bottom layer first
};

// The files and paths of a sandbox that its containers use.
struct SandboxPaths {
  std::string resolv_conf;
  std::string hostname;
  std::string hosts;
};

// Returns the pod's hostname: the node's for host-network pods, else the config's hostname or,
// when that is empty, the pod's name.
std::string PodHostname(const ::runtime::v1::PodSandboxConfig& config);

// Spec of berth-pause: the sandbox's init, with new IPC and UTS namespaces (and PID unless the
// pod shares the host's), the pinned network namespace joined by path, and its cgroup below the
// pod's. `rootfs` is an empty directory; the pause binary is bind-mounted read-only at /pause.
runtime::Spec BuildPauseSpec(const SandboxRecord& sandbox, const std::string& rootfs,
                             const std::string& pause_binary);

// Spec of a container in `sandbox`. Its process merges `image` and `config`, and its root is
// `rootfs`, where the launcher mounts the overlay. It joins the pause's network, IPC and UTS
// namespaces and gets the pod's DNS and host files, the CRI mounts and its own cgroup.
// Errors name the CRI field and value, e.g. a relative mount path.
absl::StatusOr<runtime::Spec> BuildContainerSpec(const std::string& container_id,
                                                 const ::runtime::v1::ContainerConfig& config,
                                                 const SandboxRecord& sandbox,
                                                 const SandboxPaths& sandbox_paths,
                                                 const ImageDefaults& image,
                                                 const std::string& rootfs);

// The overlay that forms a container's root file system: the image layers as lower directories
// (top layer first, as overlayfs wants) and the container's own upper and work directories.
runtime::Mount BuildRootfsOverlay(const std::vector<std::string>& layer_dirs,
                                  const std::string& upper_dir, const std::string& work_dir);

}  // namespace berth::pod
