// The security part of a container's runtime spec, from its CRI security context and its
// sandbox's: capabilities, privileged mode, no_new_privs, masked and read-only paths, seccomp
// and AppArmor.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pod/records.h"
#include "runtime/spec.h"
#include "runtime/v1/api.pb.h"

namespace berth::pod {

// A seccomp or AppArmor choice, read from the SecurityProfile message or, when a kubelet sends
// only the deprecated string ("runtime/default", "docker/default", "unconfined",
// "localhost/<ref>"), from that.
struct ProfileChoice {
  enum class Kind { kUnconfined, kRuntimeDefault, kLocalhost };
  Kind kind = Kind::kUnconfined;
  std::string localhost_ref;  // for kLocalhost: a file path (seccomp) or a profile name
};

// Returns the choice `field` (its CRI path, for errors) makes. No message and no string means
// Unconfined, as in other CRI runtimes. A Localhost choice without a reference, an unknown
// legacy string, or (for seccomp, `needs_absolute_ref`) a relative path is InvalidArgument.
absl::StatusOr<ProfileChoice> ReadProfileChoice(const ::runtime::v1::SecurityProfile* profile,
                                                const std::string& legacy,
                                                bool needs_absolute_ref, const std::string& field);

// Checks the seccomp and AppArmor choices of a container config without touching the system.
absl::Status ValidateContainerProfiles(const ::runtime::v1::ContainerConfig& config);
absl::Status ValidateSandboxProfiles(const ::runtime::v1::PodSandboxConfig& config);

// Applies the container's security context to `spec` (a BaseSpec with user and mounts set):
//  - privileged is allowed only inside a privileged sandbox (else InvalidArgument). Such a
//    container gets every capability, the host's devices, read-write /sys and /sys/fs/cgroup,
//    and no masked or read-only paths, seccomp filter or AppArmor profile;
//  - otherwise the default capabilities with add/drop (either may be "ALL"), ambient ones added
//    to every set, an inheritable set holding only the ambient ones;
//  - no_new_privs; masked and read-only paths from the CRI fields, or the defaults when empty;
//  - seccomp: RuntimeDefault builds Berth's default profile for the final bounding set,
//    Localhost reads the file (InvalidArgument naming it and the reason when it is bad);
//  - AppArmor: a Localhost profile needs a host with AppArmor and the profile loaded
//    (FailedPrecondition otherwise); RuntimeDefault applies "berth-default" when loaded.
absl::Status ApplyContainerSecurity(runtime::Spec& spec,
                                    const ::runtime::v1::ContainerConfig& config,
                                    const SandboxRecord& sandbox);

// Applies the sandbox's seccomp choice to the pause process's spec, and makes its /sys
// read-write in a privileged sandbox (see the .cc for why).
absl::Status ApplySandboxSecurity(runtime::Spec& spec,
                                  const ::runtime::v1::PodSandboxConfig& config);

// The AppArmor profile RuntimeDefault stands for, when the host has it loaded.
inline constexpr char kDefaultAppArmorProfile[] = "berth-default";

}  // namespace berth::pod
