// Changing the resource limits of a container that already runs.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Writes `resources` to the cgroup of container `id`, whose spec is `spec` (its cgroupsPath
// decides the directories). Device rules stay as they were. The container's cgroup must exist
// (FailedPrecondition naming it otherwise). A value the kernel rejects, such as a memory limit
// below the current usage, is returned with the file and the value.
absl::Status UpdateContainerCgroup(const Spec& spec, const std::string& id,
                                   const Resources& resources);

}  // namespace berth::runtime
