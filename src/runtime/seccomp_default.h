// Berth's RuntimeDefault seccomp profile: refuse by default (EPERM) and allow the syscalls that
// ordinary programs need, the same set the well-known Docker and containerd default allows, so
// images that run there run here. Syscalls guarded by a capability are allowed only when the
// container's bounding set holds it.
#pragma once

#include <string>
#include <vector>

#include "runtime/spec.h"

namespace berth::runtime {

// Builds the profile for a container whose bounding set is `bounding` ("CAP_SYS_ADMIN", ...).
// Without CAP_SYS_ADMIN, clone may not create namespaces and clone3 fails with ENOSYS, so that
// C libraries fall back to clone, whose flags the filter can inspect.
Seccomp DefaultSeccompProfile(const std::vector<std::string>& bounding);

}  // namespace berth::runtime
