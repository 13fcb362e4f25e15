#include "runtime/linux/exec_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/status.h"
#include "runtime/linux/capabilities.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/confinement.h"
#include "runtime/linux/launcher.h"
#include "runtime/linux/process_setup.h"
#include "runtime/linux/sync_channel.h"

namespace berth::runtime {
namespace {

struct NamespaceFile {
  const char* type;  // OCI name
  const char* file;  // name under /proc/<pid>/ns
};

// Entered in this order; the mount namespace last, because entering it changes the root and
// the working directory of this process.
constexpr NamespaceFile kNamespaces[] = {{"ipc", "ipc"}, {"uts", "uts"},       {"network", "net"},
                                         {"pid", "pid"}, {"cgroup", "cgroup"}, {"mount", "mnt"}};

absl::Status JoinContainerNamespaces(const ExecRequest& request) {
  std::vector<std::pair<UniqueFd, std::string>> joins;
  // A user namespace goes first: it owns all the others, and once in it this process has the
  // capabilities to enter them.
  std::vector<NamespaceFile> order;
  if (FindNamespace(request.spec, "user") != nullptr) order.push_back({"user", "user"});
  order.insert(order.end(), std::begin(kNamespaces), std::end(kNamespaces));
  for (const NamespaceFile& ns : order) {
    // A cgroup namespace is joined only when the container has one of its own.
    if (std::string(ns.type) == "cgroup" && FindNamespace(request.spec, "cgroup") == nullptr)
      continue;
    std::string path = absl::StrCat("/proc/", request.target_pid, "/ns/", ns.file);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return ErrnoError(errno, "open", path);
    joins.emplace_back(std::move(fd), ns.type);
  }
  for (const auto& [fd, type] : joins) {
    if (::setns(fd.get(), NamespaceFlag(type)) != 0) {
      return ErrnoError(errno, absl::StrCat("setns (", type, ")"),
                        absl::StrCat("pid ", request.target_pid));
    }
  }
  return absl::OkStatus();
}

[[noreturn]] void RunChild(const ExecRequest& request, const CapabilitySets& caps,
                           const Confinement& confinement, int sync_fd) {
  // The shim binary runs here until execve; see RunContainerInit.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();

  auto check = [&](const absl::Status& status, const char* step) {
    if (status.ok()) return;
    SendError(sync_fd, Annotate(status, step));
    ::_exit(127);
  };
  absl::StatusOr<std::string> oom = ApplyOomScoreAdj(request.process.oom_score_adj);
  check(oom.status(), "set oom_score_adj");
  check(ApplyRlimits(request.process.rlimits), "set rlimits");
  std::string cwd = request.process.cwd.empty() ? "/" : request.process.cwd;
  check(CheckCwdPath(cwd), "enter cwd");
  if (::chdir(cwd.c_str()) != 0) check(ErrnoError(errno, "chdir", cwd), "enter cwd");
  check(CheckCwdInsideRoot(cwd), "enter cwd");
  check(CloseExtraFdsOnExec(), "close descriptors");
  check(ConfineBeforeCredentials(confinement), "confine");
  check(ApplyUserAndCapabilities(request.process.user, caps, request.process.no_new_privileges),
        "set user and capabilities");
  absl::StatusOr<std::string> program = ResolveExecutable(request.process);
  check(program.status(), "find executable");

  // Set after the credential change, which clears it. If the exec helper is already gone (killed
  // at a timeout), nothing may run. getppid() cannot tell, because the helper is outside this pid
  // namespace, so the closed peer of the sync channel is the sign instead.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  struct pollfd peer = {sync_fd, POLLRDHUP, 0};
  if (::poll(&peer, 1, 0) > 0 && (peer.revents & (POLLRDHUP | POLLHUP)) != 0) ::_exit(137);
  check(ConfineBeforeExec(confinement), "confine");
  absl::Status failed = Execute(*program, request.process);
  SendError(sync_fd, failed);
  ::_exit(127);
}

// Waits for `pid` until `deadline`; returns false when the deadline passed first.
bool WaitUntil(pid_t pid, absl::Time deadline, int* status) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  while (true) {
    pid_t done = ::waitpid(pid, status, WNOHANG);
    if (done == pid) return true;
    if (done < 0 && errno != EINTR) return true;
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    int timeout_ms =
        left == absl::InfiniteDuration()
            ? -1
            : static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60000));
    if (pidfd) {
      struct pollfd poll_fd = {pidfd.get(), POLLIN, 0};
      ::poll(&poll_fd, 1, timeout_ms);
    } else {
      ::usleep(10000);
    }
  }
}

}  // namespace

absl::StatusOr<ExecOutcome> RunExec(const ExecRequest& request) {
  ExecOutcome outcome;
  if (request.process.args.empty())
    return absl::InvalidArgumentError("exec: process.args is empty");
  BERTH_RETURN_IF_ERROR(CheckSingleThreaded());

  std::vector<std::string> dropped;
  BERTH_ASSIGN_OR_RETURN(CapabilitySets caps,
                         ResolveCapabilities(request.process.capabilities, &dropped));
  for (const std::string& name : dropped) {
    outcome.warnings.push_back(absl::StrCat("capability ", name, " is not available: left out"));
  }

  BERTH_ASSIGN_OR_RETURN(Confinement confinement, PrepareConfinement(request.spec, request.process));

  BERTH_ASSIGN_OR_RETURN(CgroupLayout layout, DetectCgroupLayout());
  BERTH_ASSIGN_OR_RETURN(std::vector<CgroupDir> dirs, CgroupDirsFor(layout, request.cgroups_path));
  BERTH_RETURN_IF_ERROR(Annotate(JoinCgroupDirs(dirs, ::getpid()), "join cgroup"));
  BERTH_RETURN_IF_ERROR(Annotate(JoinContainerNamespaces(request), "join namespaces"));

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoError(errno, "socketpair");
  }
  UniqueFd sync_parent(pair[0]);
  UniqueFd sync_child(pair[1]);
  pid_t child = ::fork();
  if (child < 0) return ErrnoError(errno, "fork");
  if (child == 0) {
    sync_parent.Reset();
    RunChild(request, caps, confinement, sync_child.get());
  }
  sync_child.Reset();
  absl::Time deadline = request.timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                                    : absl::Now() + request.timeout;

  // The channel closes at execve; a message before that is the setup's error.
  SyncReader reader(sync_parent.get());
  absl::StatusOr<SyncMessage> message = reader.Next(absl::Now() + absl::Seconds(30));
  if (!message.ok() || message->kind == SyncMessage::Kind::kError) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return message.ok() ? message->error : message.status();
  }

  int status = 0;
  if (!WaitUntil(child, deadline, &status)) {
    // The process leads its own session: kill everything it started, then reap it.
    ::kill(-child, SIGKILL);
    ::kill(child, SIGKILL);
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    outcome.timed_out = true;
  }
  if (WIFSIGNALED(status)) {
    outcome.exit_code = 128 + WTERMSIG(status);
  } else {
    outcome.exit_code = WEXITSTATUS(status);
  }
  return outcome;
}

}  // namespace berth::runtime
