// Keeps a container from overwriting the Berth binary it can reach through /proc/<pid>/exe.
//
// Every process that becomes a container process runs the shim binary until its execve, and a
// program inside the container can make it execute /proc/self/exe again. Whatever the container
// then opens through /proc/<pid>/exe is the file the shim was executed from. So the shim runs
// from a read-only bind mount of its own binary, made in a mount namespace of its own: opening
// that file for writing fails with EROFS, and the host's copy of the binary stays as it is.
#pragma once

#include "absl/status/status.h"

namespace berth::runtime {

// Returns OK when the running binary already sits on a read-only mount. Otherwise it moves the
// process into a new mount namespace, binds its binary read-only onto itself and re-executes
// it with the same arguments and environment. In that case it returns only on failure.
absl::Status ReexecFromReadOnlyBinary(char** argv);

// True when the file behind /proc/self/exe sits on a read-only mount.
bool RunningFromReadOnlyBinary();

}  // namespace berth::runtime
