// The units of Berth's systemd cgroup driver: a pod's transient slice and a container's
// transient scope, started and stopped through systemd's manager (systemd_bus.h).
//
// The driver keeps making the cgroupfs directories and writing the resource files itself
// (cgroups.h); systemd accepts a unit whose cgroup directory exists already. The units tell
// systemd, where it runs, that these cgroups are taken, so it neither moves their processes nor
// removes them. When the system bus cannot be reached, or no systemd manager is registered on
// it, the functions below log one warning per process and succeed, leaving plain cgroupfs.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/linux/systemd_bus.h"
#include "runtime/spec.h"

namespace berth::runtime {

// A container's scope, split out of a cgroupsPath "slice:prefix:name".
struct SystemdScope {
  std::string slice;  // "kubepods-pod1.slice"; "system.slice" when the path leaves it empty
  std::string unit;   // "prefix-name.scope", or "name.scope" when prefix is empty
};

// Returns the scope of `cgroups_path`, or nullopt when the path is not of the form
// "slice:prefix:name" or its name is itself a slice. InvalidArgument for a malformed one.
absl::StatusOr<std::optional<SystemdScope>> ScopeOfCgroupsPath(const std::string& cgroups_path);

// True when `path` names a slice alone ("kubepods-pod1.slice"), the form of a pod's parent.
bool IsSystemdSliceName(const std::string& path);

// The properties of a transient slice: its Description.
std::vector<SystemdProperty> SliceProperties(const std::string& slice);

// The properties of a container's transient scope: Slice, Description, Delegate=true, PIDs=[pid],
// then the limits `resources` sets. With `unified` (a cgroup v2 host) these are CPUWeight
// (converted from shares) and MemoryMax, else CPUShares and MemoryLimit. Both kinds of host get
// CPUQuotaPerSecUSec and TasksMax. The quota per period is scaled to one second and rounded up
// to whole 10 ms, because systemd stores it in percent. Unset, zero or negative limits are
// left out.
std::vector<SystemdProperty> ScopeProperties(const SystemdScope& scope, pid_t pid,
                                             const Resources& resources, bool unified);

// Starts the transient slice `slice` (e.g. "berth-<pod>.slice").
absl::Status StartPodSlice(const std::string& slice);

// Stops the slice. A slice unknown to systemd is success.
absl::Status StopPodSlice(const std::string& slice);

// Starts the scope of a container whose cgroupsPath is "slice:prefix:name", holding `pid`, with
// the limits of `resources`. Any other path is left alone (OK).
absl::Status StartContainerScope(const std::string& cgroups_path, pid_t pid,
                                 const Resources& resources);

// Stops the scope of a container whose cgroupsPath is "slice:prefix:name". Any other path, and a
// scope unknown to systemd, is success.
absl::Status StopContainerScope(const std::string& cgroups_path);

}  // namespace berth::runtime
