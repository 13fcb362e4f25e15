// The runtime client berthd's pod module uses: it creates containers through one berth-shim per
// container and talks to the shims over their sockets. It keeps no state in memory, so a new
// Runtime object (after a berthd restart) finds every container a previous one created, through
// <state_dir>/<id>/. Methods are safe to call from several threads. The caller must not reap
// children it did not start itself (no waitpid(-1)): Runtime waits for the helpers it spawns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/container_state.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct RuntimeOptions {
  std::string state_dir;  // one directory per container below it, e.g. /run/berth/shims
  std::string shim_path;  // the berth-shim binary
  absl::Duration create_timeout = absl::Seconds(60);  // until the process is created and blocked
};

struct CreateRequest {
  std::string id;          // [A-Za-z0-9_.-], at most 128 characters
  std::string bundle_dir;  // config.json is written here; must stay until Delete returns
  Spec spec;               // root.path absolute or relative to bundle_dir
  // Mounted on root.path inside the container's mount namespace before any other mount, so it
  // disappears with the container: type "overlay", source "overlay", options
  // lowerdir=<top>:...:<bottom>, upperdir=..., workdir=...
  std::optional<Mount> rootfs_mount;
  std::string log_path;  // CRI log file of stdout and stderr; empty discards the output
};

struct ExecResult {
  std::string stdout_data;  // at most kExecOutputLimit bytes; the rest is dropped
  std::string stderr_data;
  int exit_code = 0;
};

inline constexpr size_t kExecOutputLimit = 16 << 20;

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);

  // Writes <bundle_dir>/config.json, starts the container's shim and returns once the container
  // process exists, set up and blocked before execve (status created), or the launch error with
  // its step, path and errno text, e.g. NotFound `exec: "/no/such": no such file or directory`.
  // On error nothing is left: no process, cgroup, mount or state directory. An id in use is
  // AlreadyExists.
  absl::StatusOr<ContainerState> Create(const CreateRequest& request);

  // Lets the created process run its program. FailedPrecondition when it is not in created state.
  absl::Status Start(const std::string& id);

  // Sends `signal` to the container process, and with `all` to every process of its cgroup. A
  // container that already stopped is success; an unknown id is NotFound.
  absl::Status Kill(const std::string& id, int signal, bool all = false);

  // Makes the shim reopen the CRI log file, after kubelet rotated it. FailedPrecondition when the
  // shim has gone (the container stopped and its output was written).
  absl::Status ReopenLog(const std::string& id);

  // Returns the state from the shim or, when the shim has gone, from the exit record it left
  // (status unknown, reason "ShimGone", when there is none). An unknown id is NotFound.
  absl::StatusOr<ContainerState> State(const std::string& id);

  // Waits until the container stopped and returns its final state; DeadlineExceeded after
  // `timeout`.
  absl::StatusOr<ContainerState> Wait(const std::string& id, absl::Duration timeout);

  // Removes a stopped or created container: kills a created (never started) process, waits for
  // the shim to exit, removes the cgroup and the state directory. A running container is
  // FailedPrecondition; an unknown id is success, so Delete can be repeated.
  absl::Status Delete(const std::string& id);

  // Runs `process` in the running container `id`: its namespaces, its cgroup, with the user,
  // capabilities, no_new_privs, env and cwd of `process` (see ExecProcessFor). Returns output and
  // exit code. When `timeout` passes the process (and its session) is killed and reaped, and the
  // result is DeadlineExceeded. A zero or infinite `timeout` means none, as 0 does in CRI. A
  // program that cannot be started is an error, e.g. NotFound
  // `exec: "nope": executable file not found in $PATH`.
  absl::StatusOr<ExecResult> ExecSync(const std::string& id, const Process& process,
                                      absl::Duration timeout);

  // Returns the ids that have a state directory.
  absl::StatusOr<std::vector<std::string>> List();

 private:
  std::string DirOf(const std::string& id) const;
  absl::Status CheckKnown(const std::string& id) const;
  absl::Status ForceCleanup(const std::string& id);
  absl::Status AwaitShimExit(const std::string& id, absl::Duration timeout);

  RuntimeOptions options_;
};

// A process to exec in a container, inheriting the container's user, capabilities,
// no_new_privs, rlimits, cwd and env, with `args` to run and `env` entries added (an entry
// replaces one of the same name).
Process ExecProcessFor(const Process& container, std::vector<std::string> args,
                       const std::vector<std::string>& env = {});

}  // namespace berth::runtime
