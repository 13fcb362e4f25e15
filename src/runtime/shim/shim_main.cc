#include "runtime/shim/shim_main.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/exe_guard.h"
#include "runtime/linux/exec_process.h"
#include "runtime/linux/launcher.h"
#include "runtime/shim/protocol.h"
#include "runtime/shim/shim_files.h"
#include "runtime/shim/shim_server.h"

namespace berth::runtime {
namespace {

using Flags = std::map<std::string, std::string>;

absl::StatusOr<Flags> ParseFlags(int argc, char** argv, int first) {
  Flags flags;
  for (int i = first; i < argc; i += 2) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0 || i + 1 >= argc) {
      return absl::InvalidArgumentError(absl::StrCat("bad argument \"", name, "\""));
    }
    flags[name.substr(2)] = argv[i + 1];
  }
  return flags;
}

// Writes one response line to the result pipe and closes it.
void Report(int fd, const nlohmann::json& response) {
  if (fd < 0) return;
  std::string line = response.dump() + "\n";
  size_t offset = 0;
  while (offset < line.size()) {
    ssize_t n = ::write(fd, line.data() + offset, line.size() - offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    offset += static_cast<size_t>(n);
  }
  ::close(fd);
}

int ResultFd(const Flags& flags) {
  int fd = -1;
  auto it = flags.find("result-fd");
  if (it == flags.end() || !absl::SimpleAtoi(it->second, &fd)) return -1;
  return fd;
}

// Detaches the daemon from berthd: new session, subreaper for the container's orphans, stdin
// from /dev/null, stdout and stderr into the shim's own log.
void Detach(const ShimPaths& paths) {
  ::setsid();
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) ::dup2(null, 0);
  int log = ::open(paths.log().c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log < 0) log = null;
  ::dup2(log, 1);
  ::dup2(log, 2);
  if (log != null) ::close(log);
  if (null >= 0) ::close(null);
  if (::chdir("/") != 0) {
    // "/" always exists; nothing depends on the working directory afterwards.
  }
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Everything the daemon does until the container process is created and blocked.
absl::StatusOr<ShimServerArgs> CreateForServer(const ShimPaths& paths) {
  BERTH_RETURN_IF_ERROR(WriteFileAtomic(paths.shim_pid(), absl::StrCat(::getpid())));
  BERTH_ASSIGN_OR_RETURN(LaunchRecord record, ReadLaunchRecord(paths.launch()));
  BERTH_ASSIGN_OR_RETURN(Spec spec, ReadBundleSpec(record.bundle_dir));
  if (!record.cgroups_path.empty()) spec.linux.cgroups_path = record.cgroups_path;

  // SIGCHLD arrives through a signalfd in the poll loop; the launcher unblocks it in children.
  // A SIGCHLD ignored by the caller would be inherited and make the kernel reap on its own.
  ::signal(SIGCHLD, SIG_DFL);
  sigset_t mask;
  ::sigemptyset(&mask);
  ::sigaddset(&mask, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  UniqueFd signal_fd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd) return ErrnoError(errno, "signalfd");

  BERTH_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  BERTH_ASSIGN_OR_RETURN(Pipe err, MakePipe());
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return ErrnoError(errno, "open", "/dev/null");

  LaunchRequest request;
  request.id = record.id;
  request.spec = std::move(spec);
  request.rootfs_mount = record.rootfs_mount;
  request.stdin_fd = null.get();
  request.stdout_fd = out.write.get();
  request.stderr_fd = err.write.get();
  auto log = Logger("shim");
  std::string id = record.id;
  auto warn = [log, id](const std::string& text) {
    log->warn("launch warning container={} warning=\"{}\"", id, text);
  };
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<CreatedContainer> container,
                         CreateContainer(request, warn));

  ShimServerArgs args;
  args.paths = paths;
  args.state.id = record.id;
  args.state.status = ContainerStatus::kCreated;
  args.state.pid = container->pid();
  args.state.created_at = NowNanos();
  args.container = std::move(container);
  args.stdout_read = std::move(out.read);
  args.stderr_read = std::move(err.read);
  args.signal_fd = std::move(signal_fd);
  args.log_path = record.log_path;

  absl::Status written = WriteFileAtomic(paths.container_pid(), absl::StrCat(args.state.pid));
  absl::StatusOr<UniqueFd> listener =
      written.ok() ? ListenUnix(paths.socket()) : absl::StatusOr<UniqueFd>(written);
  if (!listener.ok()) {
    ::kill(args.state.pid, SIGKILL);
    ::waitpid(args.state.pid, nullptr, 0);
    (void)RemoveCgroupDirs(args.container->cgroup_dirs());
    return listener.status();
  }
  args.listener = std::move(*listener);
  return args;
}

int RunCreate(const Flags& flags) {
  int result_fd = ResultFd(flags);
  auto dir = flags.find("state-dir");
  if (dir == flags.end()) {
    Report(result_fd, ErrorResponse(absl::InvalidArgumentError("--state-dir is missing")));
    return 2;
  }
  ShimPaths paths{dir->second};

  pid_t daemon = ::fork();
  if (daemon < 0) {
    Report(result_fd, ErrorResponse(ErrnoError(errno, "fork", "shim daemon")));
    return 1;
  }
  if (daemon > 0) {
    // The caller reaps this process at once; the daemon responds through the result pipe.
    ::close(result_fd);
    return 0;
  }

  Detach(paths);
  ::fcntl(result_fd, F_SETFD, FD_CLOEXEC);
  (void)InitLogging("info");
  auto log = Logger("shim");
  absl::StatusOr<ShimServerArgs> args = CreateForServer(paths);
  if (!args.ok()) {
    log->error("create failed dir={} error=\"{}\"", paths.dir, args.status().ToString());
    Report(result_fd, ErrorResponse(args.status()));
    return 1;
  }
  log->info("container created container={} pid={}", args->state.id, args->state.pid);
  Report(result_fd, OkResponse(StateToJson(args->state)));
  return RunShimServer(std::move(*args));
}

absl::StatusOr<nlohmann::json> ExecFromFlags(const Flags& flags) {
  auto dir = flags.find("state-dir");
  auto request_file = flags.find("request");
  if (dir == flags.end() || request_file == flags.end()) {
    return absl::InvalidArgumentError("--state-dir and --request are required");
  }
  ShimPaths paths{dir->second};
  absl::StatusOr<nlohmann::json> body = ReadJsonFile(request_file->second);
  ::unlink(request_file->second.c_str());
  if (!body.ok()) return body.status();

  BERTH_ASSIGN_OR_RETURN(LaunchRecord record, ReadLaunchRecord(paths.launch()));
  if (PathExists(paths.exit())) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", record.id, " is not running: it has exited"));
  }
  BERTH_ASSIGN_OR_RETURN(std::string pid_text, ReadFile(paths.container_pid()));
  ExecRequest request;
  if (!absl::SimpleAtoi(pid_text, &request.target_pid) || request.target_pid <= 0) {
    return absl::InternalError(absl::StrCat("invalid pid file ", paths.container_pid()));
  }
  BERTH_ASSIGN_OR_RETURN(request.spec, ReadBundleSpec(record.bundle_dir));
  request.id = record.id;
  request.cgroups_path = record.cgroups_path.empty() ? ContainerCgroupsPath(request.spec, record.id)
                                                     : record.cgroups_path;
  if (!body->contains("process")) return absl::InvalidArgumentError("exec request has no process");
  BERTH_ASSIGN_OR_RETURN(request.process, ProcessFromJson((*body)["process"]));
  int64_t timeout_ms = body->value("timeout_ms", int64_t{0});
  if (timeout_ms > 0) request.timeout = absl::Milliseconds(timeout_ms);

  BERTH_ASSIGN_OR_RETURN(ExecOutcome outcome, RunExec(request));
  return nlohmann::json{{"ok", true},
                        {"exit_code", outcome.exit_code},
                        {"timed_out", outcome.timed_out},
                        {"warnings", outcome.warnings}};
}

int RunExecMode(const Flags& flags) {
  int result_fd = ResultFd(flags);
  ::signal(SIGCHLD, SIG_DFL);
  absl::StatusOr<nlohmann::json> response = ExecFromFlags(flags);
  Report(result_fd, response.ok() ? *response : ErrorResponse(response.status()));
  return response.ok() ? 0 : 1;
}

}  // namespace

int ShimMain(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: berth-shim create|exec --state-dir DIR [--request FILE] "
                 "--result-fd FD\n");
    return 2;
  }
  // Every container process starts as this binary, so it must not be writable through
  // /proc/<pid>/exe: see exe_guard.h. Returns here only once that holds.
  absl::Status guarded = ReexecFromReadOnlyBinary(argv);
  if (!guarded.ok()) {
    std::fprintf(stderr, "berth-shim: %s\n", std::string(guarded.message()).c_str());
    return 1;
  }
  std::string mode = argv[1];
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv, 2);
  if (!flags.ok()) {
    std::fprintf(stderr, "berth-shim: %s\n", std::string(flags.status().message()).c_str());
    return 2;
  }
  if (mode == "create") return RunCreate(*flags);
  if (mode == "exec") return RunExecMode(*flags);
  std::fprintf(stderr, "berth-shim: unknown mode \"%s\"\n", mode.c_str());
  return 2;
}

}  // namespace berth::runtime
