// The last steps before a container process (or an exec'd one) runs its program: rlimits,
// oom_score_adj, user and capabilities, no_new_privs, closing descriptors, finding the
// executable, and execve. Each runs in the process being set up.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/linux/capabilities.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Applies each rlimit; an unknown type ("RLIMIT_FOO") is InvalidArgument.
absl::Status ApplyRlimits(const std::vector<Rlimit>& rlimits);

// Writes oomScoreAdj to /proc/self/oom_score_adj. Lowering the score needs CAP_SYS_RESOURCE;
// without it a negative value is clamped to 0 and the returned text is a warning to log
// (empty when nothing was clamped). Other failures are errors.
absl::StatusOr<std::string> ApplyOomScoreAdj(std::optional<int> score);

// Switches to `user` (supplementary groups, gid, uid) keeping capabilities across the switch,
// then applies `caps` (bounding set first, while still privileged) and, when asked,
// PR_SET_NO_NEW_PRIVS.
absl::Status ApplyUserAndCapabilities(const User& user, const CapabilitySets& caps,
                                      bool no_new_privileges);

// Finds the program to run the way execvp does: args[0] as a path when it contains a slash,
// otherwise the first executable regular file in the PATH of `process.env` (or the default
// PATH). Errors read like `exec: "/no/such": no such file or directory` with the errno code.
absl::StatusOr<std::string> ResolveExecutable(const Process& process);

// Marks every descriptor above stderr close-on-exec, so nothing of the launcher leaks into the
// container program.
absl::Status CloseExtraFdsOnExec();

// Replaces the process image. Returns only on failure, with the exec-style error message.
absl::Status Execute(const std::string& path, const Process& process);

// Returns FailedPrecondition unless the calling process has exactly one thread: forking a
// multi-threaded process and joining a mount namespace are unsafe or refused there.
absl::Status CheckSingleThreaded();

// Returns the PATH of `env`, or the default PATH when it has none.
std::string PathOf(const std::vector<std::string>& env);

}  // namespace berth::runtime
