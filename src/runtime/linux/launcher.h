// Creates a container process from a spec, in two phases as CRI wants: CreateContainer returns
// once the process exists in its namespaces and cgroup, fully set up and blocked before execve;
// Start releases it.
//
// How: the caller (the shim) forks a helper that joins the cgroup and the namespaces given by
// path, then clones the container process into the new namespaces as a sibling (CLONE_PARENT),
// so the shim is its parent and reaps it. The container process builds its file system, sets
// hostname, sysctls, rlimits, user and capabilities, finds the executable, reports "ready", and
// waits on a pipe for the start byte. Every failure on the way comes back with its step.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/fd.h"
#include "runtime/linux/cgroups.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Annotation of a spec with a user namespace. "chown" shifts the owners of the image's files by
// chowning them instead of using idmapped layers, which is slower but works on file systems
// that cannot idmap.
inline constexpr char kUsernsOwnershipAnnotation[] = "io.berth.userns.ownership";

struct LaunchRequest {
  std::string id;
  Spec spec;  // root.path must be absolute
  std::optional<Mount> rootfs_mount;
  // The container's stdin, stdout and stderr; not owned, and left open.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  absl::Duration setup_timeout = absl::Seconds(60);
};

// Receives warnings that do not stop the launch (a clamped oom_score_adj, dropped capabilities).
using WarningSink = std::function<void(const std::string&)>;

// A created container process, blocked before execve.
class CreatedContainer {
 public:
  CreatedContainer(pid_t pid, UniqueFd sync, UniqueFd start, std::vector<CgroupDir> cgroup_dirs)
      : pid_(pid),
        sync_(std::move(sync)),
        start_(std::move(start)),
        cgroup_dirs_(std::move(cgroup_dirs)) {}

  pid_t pid() const { return pid_; }
  const std::vector<CgroupDir>& cgroup_dirs() const { return cgroup_dirs_; }

  // Lets the process call execve and waits until it did. A failed execve is returned with the
  // exec-style message; the process then exits by itself. A second call is FailedPrecondition.
  absl::Status Start(absl::Duration timeout);

 private:
  pid_t pid_;
  UniqueFd sync_;
  UniqueFd start_;
  std::vector<CgroupDir> cgroup_dirs_;
};

// Creates the container process; see the file comment. On error nothing is left behind: the
// process is killed and reaped and the cgroup directories it made are removed. The caller must be
// single-threaded (FailedPrecondition otherwise) and reap the container process when it exits.
absl::StatusOr<std::unique_ptr<CreatedContainer>> CreateContainer(const LaunchRequest& request,
                                                                  const WarningSink& warn);

// The cgroupsPath a container uses: the spec's, or "/berth/<id>" when the spec has none.
std::string ContainerCgroupsPath(const Spec& spec, const std::string& id);

// Returns the container's cgroup directories on this host, without creating anything.
absl::StatusOr<std::vector<CgroupDir>> ContainerCgroupDirs(const Spec& spec, const std::string& id);

// The clone(2) flag of a namespace type ("pid" -> CLONE_NEWPID, ...); 0 for an unknown type.
int NamespaceFlag(const std::string& type);

}  // namespace berth::runtime
