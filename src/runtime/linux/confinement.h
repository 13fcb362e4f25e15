// Confinement of a container process besides capabilities: its seccomp filter, its AppArmor
// profile, and the checks that keep its working directory inside its root. The container's
// first process and exec'd processes both use it.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/linux/seccomp.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct Confinement {
  std::optional<CompiledSeccomp> seccomp;
  bool no_new_privileges = false;
  std::string apparmor_profile;
};

// Compiles the spec's seccomp filter and picks up the AppArmor profile of `process`. Runs
// before the process is created, so a bad filter fails the create with its reason.
absl::StatusOr<Confinement> PrepareConfinement(const Spec& spec, const Process& process);

// Runs while the process still has its capabilities: sets the AppArmor profile for execve and,
// without no_new_privs, installs the seccomp filter, which then needs CAP_SYS_ADMIN.
absl::Status ConfineBeforeCredentials(const Confinement& confinement);

// Runs right before execve: installs the seccomp filter when no_new_privs allows it to wait
// until here, so the filter constrains as little of Berth's own setup as possible.
absl::Status ConfineBeforeExec(const Confinement& confinement);

// Refuses a working directory that leads through a magic link such as /proc/self/fd/N, which
// could name a directory outside the root (checked before anything is created on the way).
absl::Status CheckCwdPath(const std::string& cwd);

// Rejects, after chdir, a working directory that the process's root cannot reach.
absl::Status CheckCwdInsideRoot(const std::string& cwd);

}  // namespace berth::runtime
