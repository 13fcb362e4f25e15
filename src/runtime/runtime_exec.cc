// Runtime::ExecSync: runs `berth-shim exec` as a fresh process (berthd is multi-threaded and
// cannot enter a mount namespace itself) and collects its output.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/id.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "runtime/runtime.h"
#include "runtime/shim/shim_files.h"
#include "runtime/spawn.h"

namespace berth::runtime {
namespace {

// Time the exec helper gets beyond the exec timeout to kill, reap and report before it is killed.
constexpr absl::Duration kHelperGrace = absl::Seconds(10);
// Time output is still read after the helper exited, for pipes a background process keeps open.
constexpr absl::Duration kDrainAfterExit = absl::Seconds(1);

struct Output {
  UniqueFd fd;
  std::string* data;
};

// Reads what is available; returns false at end of file. Bytes past the limit are dropped.
bool ReadSome(Output& output) {
  char chunk[65536];
  ssize_t n = ::read(output.fd.get(), chunk, sizeof(chunk));
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t room = kExecOutputLimit - std::min(kExecOutputLimit, output.data->size());
  output.data->append(chunk, std::min(room, static_cast<size_t>(n)));
  return true;
}

absl::StatusOr<std::array<UniqueFd, 2>> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  return std::array<UniqueFd, 2>{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

absl::StatusOr<ExecResult> Runtime::ExecSync(const std::string& id, const Process& process,
                                             absl::Duration timeout) {
  if (process.args.empty()) return absl::InvalidArgumentError("exec: args are empty");
  if (timeout <= absl::ZeroDuration()) timeout = absl::InfiniteDuration();
  BERTH_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status != ContainerStatus::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("cannot exec in container ", id, ": it is ",
                                                      StatusName(state.status), ", not running"));
  }

  ShimPaths paths{DirOf(id)};
  std::string request_file =
      JoinPath(paths.dir, absl::StrCat("exec-", NewId().substr(0, 16), ".json"));
  int64_t timeout_ms = timeout == absl::InfiniteDuration() ? 0 : absl::ToInt64Milliseconds(timeout);
  if (timeout != absl::InfiniteDuration() && timeout_ms <= 0) timeout_ms = 1;  // below 1 ms
  BERTH_RETURN_IF_ERROR(WriteJsonFileAtomic(
      request_file, {{"process", ProcessToJson(process)}, {"timeout_ms", timeout_ms}}, 0600));

  BERTH_ASSIGN_OR_RETURN(auto out_pipe, MakePipe());
  BERTH_ASSIGN_OR_RETURN(auto err_pipe, MakePipe());
  BERTH_ASSIGN_OR_RETURN(auto result_pipe, MakePipe());
  SpawnOptions spawn;
  spawn.argv = {options_.shim_path, "exec",       "--state-dir", paths.dir,
                "--request",        request_file, "--result-fd", "3"};
  spawn.stdout_fd = out_pipe[1].get();
  spawn.stderr_fd = err_pipe[1].get();
  spawn.result_fd = result_pipe[1].get();
  absl::StatusOr<pid_t> helper = Spawn(spawn);
  out_pipe[1].Reset();
  err_pipe[1].Reset();
  result_pipe[1].Reset();
  if (!helper.ok()) {
    ::unlink(request_file.c_str());
    return helper.status();
  }

  ExecResult result;
  std::string response_text;
  Output outputs[3] = {{std::move(out_pipe[0]), &result.stdout_data},
                       {std::move(err_pipe[0]), &result.stderr_data},
                       {std::move(result_pipe[0]), &response_text}};
  absl::Time hard_deadline = timeout == absl::InfiniteDuration()
                                 ? absl::InfiniteFuture()
                                 : absl::Now() + timeout + kHelperGrace;
  bool helper_killed = false;
  int helper_status = 0;
  bool helper_done = false;
  absl::Time drain_deadline = absl::InfiniteFuture();
  while (outputs[0].fd || outputs[1].fd || outputs[2].fd) {
    if (!helper_done && ::waitpid(*helper, &helper_status, WNOHANG) == *helper) {
      helper_done = true;
      drain_deadline = absl::Now() + kDrainAfterExit;
    }
    absl::Time now = absl::Now();
    if (now >= drain_deadline) break;
    if (now >= hard_deadline && !helper_killed) {
      ::kill(*helper, SIGKILL);
      helper_killed = true;
    }
    std::vector<struct pollfd> fds;
    for (Output& output : outputs) fds.push_back({output.fd.get(), POLLIN, 0});
    absl::Time next = std::min(drain_deadline, helper_killed ? drain_deadline : hard_deadline);
    int wait_ms = 100;  // also the interval for noticing the helper's exit
    if (next != absl::InfiniteFuture()) {
      wait_ms =
          static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(next - now) + 1, 1, 100));
    }
    if (::poll(fds.data(), fds.size(), wait_ms) <= 0) continue;
    for (size_t i = 0; i < 3; ++i) {
      if (fds[i].revents != 0 && outputs[i].fd && !ReadSome(outputs[i])) outputs[i].fd.Reset();
    }
  }
  if (!helper_done) {
    while (::waitpid(*helper, &helper_status, 0) < 0 && errno == EINTR) {
    }
  }
  ::unlink(request_file.c_str());

  nlohmann::json response = nlohmann::json::parse(response_text, nullptr, false);
  if (helper_killed || response.is_discarded() || !response.is_object()) {
    return absl::InternalError(
        absl::StrCat("exec in container ", id, ": the exec helper ",
                     helper_killed ? "was killed after the timeout" : "failed", " (status ",
                     helper_status, ")"));
  }
  if (!response.value("ok", false)) {
    int code = response.value("code", static_cast<int>(absl::StatusCode::kInternal));
    return absl::Status(
        static_cast<absl::StatusCode>(code),
        absl::StrCat("exec in container ", id, ": ", response.value("error", "failed")));
  }
  for (const auto& warning : response.value("warnings", nlohmann::json::array())) {
    Logger("runtime")->warn("exec warning container={} warning=\"{}\"", id, warning.dump());
  }
  if (response.value("timed_out", false)) {
    return absl::DeadlineExceededError(absl::StrCat("exec in container ", id, " timed out after ",
                                                    absl::FormatDuration(timeout),
                                                    "; the process was killed"));
  }
  result.exit_code = response.value("exit_code", -1);
  return result;
}

}  // namespace berth::runtime
