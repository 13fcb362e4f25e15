// Compiles an OCI seccomp filter into a BPF program with libseccomp, and installs it.
//
// The two steps are separate on purpose. Compiling allocates and may fail for reasons worth
// reporting at CreateContainer. Installing is one syscall, made as late as possible before
// execve, so the filter constrains the container program and little of Berth's own setup.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct CompiledSeccomp {
  std::vector<sock_filter> program;
  unsigned int flags = 0;  // SECCOMP_FILTER_FLAG_* for seccomp(2)
};

// Builds the BPF program of `profile` for the native architecture and those it lists.
// Syscall names unknown to libseccomp are skipped, as other runtimes do; a rule whose action
// is the default action is left out. Errors name the architecture or syscall at fault.
absl::StatusOr<CompiledSeccomp> CompileSeccomp(const Seccomp& profile);

// Installs the program on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER). Needs
// no_new_privs or CAP_SYS_ADMIN.
absl::Status InstallSeccomp(const CompiledSeccomp& filter);

}  // namespace berth::runtime
