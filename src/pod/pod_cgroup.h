// The cgroup of a pod: the parent under which the pause process and every container of the pod
// get their own cgroups. The kubelet usually makes it (cgroup_parent); when it does not, Berth
// makes one and removes it with the pod.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::pod {

// Returns true when `path` exists in every mounted cgroup hierarchy.
absl::StatusOr<bool> PodCgroupExists(const std::string& path);

// Creates `path` (and missing parents) in every mounted cgroup hierarchy. A systemd slice name
// ("berth-<pod>.slice") that does not exist yet is first started as a transient slice through
// systemd's manager. Without a reachable systemd, cgroupfs alone is used (systemd_units.h).
absl::Status CreatePodCgroup(const std::string& path);

// Removes `path` from every hierarchy; missing is success. Its children must be gone already.
// A systemd slice name is stopped through systemd's manager first.
absl::Status RemovePodCgroup(const std::string& path);

}  // namespace berth::pod
