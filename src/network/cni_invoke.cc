#include "network/cni_invoke.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status.h"

extern char** environ;

namespace berth::network {
namespace {

// Output beyond this is dropped: a plugin result is a few kilobytes.
constexpr size_t kMaxOutputBytes = 1 << 20;
// Characters of stderr or stdout quoted in an error message.
constexpr size_t kMaxQuotedBytes = 2000;

// How often a plugin that closed its output is checked for its exit.
constexpr std::chrono::milliseconds kExitPollInterval(2);

auto Log() { return Logger("network"); }

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

struct Outcome {
  int wait_status = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

std::vector<std::string> Environment(const CniCall& call) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (std::string(*entry).rfind("CNI_", 0) != 0) env.emplace_back(*entry);
  }
  env.push_back("CNI_COMMAND=" + call.command);
  env.push_back("CNI_CONTAINERID=" + call.container_id);
  env.push_back("CNI_NETNS=" + call.netns);
  env.push_back("CNI_IFNAME=" + call.ifname);
  env.push_back("CNI_ARGS=" + call.args);
  env.push_back("CNI_PATH=" + absl::StrJoin(call.bin_dirs, ":"));
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Feeds `input` to the child's stdin and collects stdout and stderr until both close or the
// deadline passes. Returns false when the deadline passed.
bool Exchange(int in, int out, int err, const std::string& input, Outcome& outcome,
              std::chrono::steady_clock::time_point deadline) {
  UniqueFd stdin_fd(in);
  size_t written = 0;
  if (input.empty()) stdin_fd.Reset();
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[3] = {{out_open ? out : -1, POLLIN, 0},
                     {err_open ? err : -1, POLLIN, 0},
                     {stdin_fd.get(), POLLOUT, 0}};
    int ready = ::poll(fds, 3, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return true;
    if (ready <= 0) continue;
    if (fds[2].revents != 0) {
      ssize_t n = ::write(stdin_fd.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EINTR && errno != EAGAIN) stdin_fd.Reset();
      if (written == input.size()) stdin_fd.Reset();
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[8192];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      std::string& sink = i == 0 ? outcome.out : outcome.err;
      if (sink.size() < kMaxOutputBytes) sink.append(buffer, static_cast<size_t>(n));
    }
  }
  return true;
}

// Waits, without reaping, until `pid` exits or the deadline passes. Returns false on timeout.
bool WaitForExit(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    siginfo_t info{};
    int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == pid) return true;
    if (rc < 0 && errno != EINTR) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kExitPollInterval);
  }
}

absl::StatusOr<Outcome> Run(const std::string& binary, const std::string& input,
                            const CniCall& call) {
  BERTH_ASSIGN_OR_RETURN(Pipe stdin_pipe, MakePipe());
  BERTH_ASSIGN_OR_RETURN(Pipe stdout_pipe, MakePipe());
  BERTH_ASSIGN_OR_RETURN(Pipe stderr_pipe, MakePipe());
  // Non-blocking, so a plugin that stops reading its stdin cannot stall the exchange.
  (void)::fcntl(stdin_pipe.write.get(), F_SETFL, O_NONBLOCK);

  std::vector<std::string> env = Environment(call);
  std::vector<char*> envp = Pointers(env);
  std::vector<std::string> args = {binary};
  std::vector<char*> argv = Pointers(args);

  // After fork only async-signal-safe calls are allowed, because berthd has other threads.
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError(errno, "fork", binary);
  if (pid == 0) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(stdin_pipe.read.get(), 0) < 0 || ::dup2(stdout_pipe.write.get(), 1) < 0 ||
        ::dup2(stderr_pipe.write.get(), 2) < 0) {
      ::_exit(127);
    }
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  stdin_pipe.read.Reset();
  stdout_pipe.write.Reset();
  stderr_pipe.write.Reset();

  Outcome outcome;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(absl::ToInt64Milliseconds(call.timeout));
  // A plugin that exits before reading all of its stdin must not kill the caller with SIGPIPE,
  // so the signal is blocked on this thread for the exchange and a pending one is discarded.
  sigset_t pipe_only, old_mask;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  bool finished = Exchange(stdin_pipe.write.Release(), stdout_pipe.read.get(),
                           stderr_pipe.read.get(), input, outcome, deadline);
  const struct timespec no_wait = {0, 0};
  while (::sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) {
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  finished = finished && WaitForExit(pid, deadline);
  outcome.timed_out = !finished;
  // The plugin is not reaped yet, so neither its pid nor its process group id can belong to
  // another process. Killing the group therefore reaches only helpers the plugin left behind.
  ::kill(-pid, SIGKILL);
  while (::waitpid(pid, &outcome.wait_status, 0) < 0 && errno == EINTR) {
  }
  return outcome;
}

std::string Quote(const std::string& text) {
  std::string trimmed(absl::StripAsciiWhitespace(text));
  if (trimmed.size() > kMaxQuotedBytes) trimmed = "..." + trimmed.substr(trimmed.size() - kMaxQuotedBytes);
  return trimmed;
}

std::string StderrPart(const Outcome& outcome) {
  std::string err = Quote(outcome.err);
  return err.empty() ? "" : absl::StrCat("; stderr: ", err);
}

// The message of a failed call: the plugin's error object when it printed one, else its output.
std::string FailureMessage(const std::string& what, const Outcome& outcome) {
  nlohmann::json error = nlohmann::json::parse(outcome.out, nullptr, false);
  if (error.is_object() && error.contains("msg")) {
    std::string message = absl::StrCat(what, " failed: ", error.value("msg", std::string()));
    if (error.contains("details") && error["details"].is_string() &&
        !error["details"].get<std::string>().empty()) {
      absl::StrAppend(&message, ": ", error["details"].get<std::string>());
    }
    if (error.contains("code") && error["code"].is_number_integer()) {
      absl::StrAppend(&message, " (code ", error["code"].get<int>(), ")");
    }
    return message + StderrPart(outcome);
  }
  std::string how = WIFSIGNALED(outcome.wait_status)
                        ? absl::StrCat("was killed by signal ", WTERMSIG(outcome.wait_status))
                        : absl::StrCat("exited with status ", WEXITSTATUS(outcome.wait_status));
  std::string out = Quote(outcome.out);
  return absl::StrCat(what, " ", how, out.empty() ? "" : "; output: " + out, StderrPart(outcome));
}

}  // namespace

absl::StatusOr<std::string> FindCniPlugin(const std::string& type,
                                          const std::vector<std::string>& bin_dirs) {
  for (const std::string& dir : bin_dirs) {
    std::string path = JoinPath(dir, type);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return absl::NotFoundError(absl::StrCat("CNI plugin \"", type, "\" not found in ",
                                          absl::StrJoin(bin_dirs, ":")));
}

absl::StatusOr<nlohmann::json> InvokeCniPlugin(const std::string& type,
                                               const nlohmann::json& config, const CniCall& call) {
  std::string what = absl::StrCat("CNI plugin ", type, " ", call.command);
  auto binary = FindCniPlugin(type, call.bin_dirs);
  if (!binary.ok()) return absl::FailedPreconditionError(std::string(binary.status().message()));

  auto started = std::chrono::steady_clock::now();
  BERTH_ASSIGN_OR_RETURN(Outcome outcome, Run(*binary, config.dump(), call));
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  Log()->debug("cni plugin ran container={} plugin={} command={} duration_ms={} status={}",
               call.container_id, type, call.command, elapsed_ms, outcome.wait_status);

  if (outcome.timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(what, " did not finish within ",
                                                    absl::FormatDuration(call.timeout),
                                                    " and was killed", StderrPart(outcome)));
  }
  if (!WIFEXITED(outcome.wait_status) || WEXITSTATUS(outcome.wait_status) != 0) {
    return absl::UnavailableError(FailureMessage(what, outcome));
  }
  if (absl::StripAsciiWhitespace(outcome.out).empty()) return nlohmann::json();
  nlohmann::json result = nlohmann::json::parse(outcome.out, nullptr, false);
  if (result.is_discarded()) {
    return absl::InternalError(
        absl::StrCat(what, " printed a result that is not JSON: ", Quote(outcome.out)));
  }
  return result;
}

}  // namespace berth::network
