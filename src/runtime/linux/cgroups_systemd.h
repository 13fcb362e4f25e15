// Cgroup paths in the systemd driver's notation, turned into the cgroupfs paths systemd gives
// the same units, as the kubelet expects them.
//
// The kubelet's systemd driver names a pod's parent by a slice, "kubepods-burstable-pod12.slice",
// which lives at /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice. A
// container's cgroupsPath is "slice:prefix:name", the transient scope "prefix-name.scope" inside
// that slice.
//
// Berth creates these directories through cgroupfs, and also starts the units through systemd's
// manager over D-Bus where one is reachable (systemd_units.h).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace berth::runtime {

// Returns the cgroup path of slice `slice`: "a-b.slice" -> "/a.slice/a-b.slice", "-.slice" ->
// "/". InvalidArgument for a name that is not a slice, contains '/', or has an empty part
// ("a--b.slice", "-a.slice").
absl::StatusOr<std::string> ExpandSystemdSlice(const std::string& slice);

// Returns the cgroup path of "slice:prefix:name": the expanded slice, then "prefix-name.scope"
// ("name.scope" when prefix is empty), or `name` itself when it is a ".slice". An empty slice
// means "system.slice". InvalidArgument names the bad part.
absl::StatusOr<std::string> SystemdCgroupsPath(const std::string& systemd_path);

// True when `path` uses the systemd notation: "slice:prefix:name", or a bare "*.slice" name
// without '/'.
bool IsSystemdCgroupsPath(const std::string& path);

// Returns `path` as a cgroupfs path: converted when it uses the systemd notation, else as given.
absl::StatusOr<std::string> CgroupfsPath(const std::string& path);

}  // namespace berth::runtime
