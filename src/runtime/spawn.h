// Starting a helper binary (berth-shim) from a multi-threaded process: fork, then only
// async-signal-safe calls before execve.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::runtime {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the path of the program
  int stdout_fd = -1;             // -1 gives /dev/null; stdin is always /dev/null
  int stderr_fd = -1;
  int result_fd = -1;  // becomes fd 3 in the child when set
};

// Starts the program with an empty signal mask and only fds 0-2 (and 3) open. The caller waits
// for the pid.
absl::StatusOr<pid_t> Spawn(const SpawnOptions& options);

}  // namespace berth::runtime
