// AppArmor: whether the host enforces it, and asking the kernel to confine the next program.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace berth::runtime {

// True when the kernel has AppArmor enabled (/sys/module/apparmor/parameters/enabled is "Y").
bool AppArmorEnabled();

// True when a profile named `name` is loaded (listed in the kernel's profiles file).
bool AppArmorProfileLoaded(const std::string& name);

// Makes the next execve of the calling process run under `profile`, by writing
// "exec <profile>" to /proc/self/attr/apparmor/exec (or the older /proc/self/attr/exec).
// FailedPrecondition when the host has no AppArmor.
absl::Status SetAppArmorExecProfile(const std::string& profile);

}  // namespace berth::runtime
