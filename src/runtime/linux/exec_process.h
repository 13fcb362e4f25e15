// Runs one more process inside a running container: in its namespaces (ipc, uts, net, pid, mount
// and, when the container has its own, cgroup), its cgroup, and with the user, capabilities,
// no_new_privs, rlimits, env and cwd of the given Process. Meant for a fresh single-threaded
// process (`berth-shim exec`), because joining a mount namespace needs one.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct ExecRequest {
  std::string id;  // the container's id (for its default cgroupsPath)
  std::string cgroups_path;
  pid_t target_pid = 0;  // the container's process, whose namespaces are joined
  Spec spec;             // the container's spec: which namespaces it has
  Process process;       // what to run, and as whom
  absl::Duration timeout = absl::InfiniteDuration();
};

struct ExecOutcome {
  int exit_code = 0;  // 128 + signal when killed by a signal
  bool timed_out = false;
  std::vector<std::string> warnings;
};

// Joins the container, forks the process (which inherits stdin, stdout and stderr of the caller),
// and waits for it. When `timeout` passes, the process's whole session is killed and reaped, and
// timed_out is set. A failure before execve (e.g. `exec: "nope": executable file not
// found in $PATH`) is returned as an error.
absl::StatusOr<ExecOutcome> RunExec(const ExecRequest& request);

}  // namespace berth::runtime
