#include "e2e/support/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Pause between two readiness probes and between two checks for an exited daemon.
constexpr milliseconds kPollInterval(50);

// Deadline of one Version probe while waiting for readiness.
constexpr std::chrono::seconds kProbeTimeout(1);

// Lines of the daemon's log quoted in errors.
constexpr size_t kLogTailLines = 40;

// Undoes the octal escapes (\040 for a space) of a /proc/self/mountinfo path.
std::string UnescapeMountPath(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 3 < path.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = path[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(path[i]);
  }
  return out;
}

// Mount points at or below `dir`, deepest first.
std::vector<std::string> MountsBelow(const std::string& dir) {
  std::vector<std::string> mounts;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5) continue;
    std::string mount_point = UnescapeMountPath(fields[4]);
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) mounts.push_back(mount_point);
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return mounts;
}

// Starts `args[0]` with `args` and its stdout and stderr on `output_fd`. The child gets SIGTERM
// if the test process dies first, so no berthd outlives its test.
absl::StatusOr<pid_t> Spawn(std::vector<std::string> args, int output_fd) {
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError(errno, "fork", args[0]);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(output_fd, STDOUT_FILENO);
    ::dup2(output_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits up to `timeout` for `pid` to exit. Returns its wait status, or DeadlineExceeded.
absl::StatusOr<int> WaitWithTimeout(pid_t pid, std::chrono::seconds timeout) {
  steady_clock::time_point deadline = steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return status;
    if (reaped < 0) return ErrnoError(errno, "waitpid", std::to_string(pid));
    if (steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid, " still runs after ", timeout.count(), " s"));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Sends SIGKILL to `pid` and reaps it.
int KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

absl::StatusOr<BerthdExit> RunBerthdToExit(const std::vector<std::string>& args,
                                           std::chrono::seconds timeout) {
  std::vector<std::string> command = {JoinPath(BinaryDir(), "berthd")};
  command.insert(command.end(), args.begin(), args.end());

  char output_template[] = "/tmp/berthd-output.XXXXXX";
  int output_fd = ::mkstemp(output_template);
  if (output_fd < 0) return ErrnoError(errno, "mkstemp", output_template);
  std::string output_path = output_template;
  absl::StatusOr<pid_t> pid = Spawn(command, output_fd);
  ::close(output_fd);
  if (!pid.ok()) {
    ::unlink(output_path.c_str());
    return pid.status();
  }

  absl::StatusOr<int> status = WaitWithTimeout(*pid, timeout);
  if (!status.ok()) KillAndReap(*pid);
  absl::StatusOr<std::string> output = ReadFile(output_path);
  ::unlink(output_path.c_str());
  if (!status.ok()) return status.status();
  return BerthdExit{*status, output.ok() ? *output : std::string()};
}

std::string BinaryDir() {
  if (const char* dir = getenv("BERTH_BIN_DIR"); dir != nullptr && dir[0] != '\0') return dir;
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return ".";
  std::string path(buffer, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::unique_ptr<grpc::ClientContext> NewClientContext(std::chrono::seconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

absl::StatusOr<std::unique_ptr<TestDaemon>> TestDaemon::Start(TestDaemonOptions options) {
  std::unique_ptr<TestDaemon> daemon(new TestDaemon());
  daemon->options_ = options;
  BERTH_RETURN_IF_ERROR(daemon->Prepare(options));
  BERTH_RETURN_IF_ERROR(daemon->Launch(options));
  if (absl::Status status = daemon->WaitReady(options.ready_timeout); !status.ok()) {
    std::string tail = daemon->LogTail();
    (void)daemon->Stop();
    return Annotate(status, absl::StrCat("berthd did not become ready; log tail:\n", tail));
  }
  return daemon;
}

TestDaemon::~TestDaemon() {
  runtime_.reset();
  images_.reset();
  channel_.reset();
  (void)Stop();
  RemoveTempDir();
}

absl::Status TestDaemon::Prepare(const TestDaemonOptions& options) {
  char dir_template[] = "/tmp/berth-e2e.XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) return ErrnoError(errno, "mkdtemp", dir_template);
  temp_dir_ = dir_template;
  root_ = JoinPath(temp_dir_, "root");
  state_ = JoinPath(temp_dir_, "state");
  socket_path_ = options.socket_path.empty() ? JoinPath(state_, "berth.sock") : options.socket_path;
  config_path_ = JoinPath(temp_dir_, "berth.toml");
  log_path_ = JoinPath(temp_dir_, "berthd.log");
  return WriteFile(config_path_, options.config_toml);
}

absl::Status TestDaemon::Launch(const TestDaemonOptions& options) {
  std::string binary = JoinPath(BinaryDir(), "berthd");
  if (::access(binary.c_str(), X_OK) != 0) return ErrnoError(errno, "access", binary);

  std::vector<std::string> args = {binary,       "--config",    config_path_,     "--root",
                                   root_,        "--state",     state_,           "--listen",
                                   socket_path_, "--log-level", options.log_level};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  bool names_cni_conf = options.config_toml.find("conf_dir") != std::string::npos;
  for (const std::string& arg : options.extra_args) {
    if (arg.rfind("--cni-conf-dir", 0) == 0) names_cni_conf = true;
  }
  if (!names_cni_conf) {
    args.insert(args.end(), {"--cni-conf-dir", JoinPath(temp_dir_, "cni-net.d")});
  }

  // Appending keeps the log of an earlier run when the daemon is restarted.
  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ErrnoError(errno, "open", log_path_);
  absl::StatusOr<pid_t> pid = Spawn(std::move(args), log_fd);
  ::close(log_fd);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  return absl::OkStatus();
}

absl::Status TestDaemon::WaitReady(std::chrono::seconds timeout) {
  steady_clock::time_point deadline = steady_clock::now() + timeout;
  grpc::Status last;
  while (steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      wait_status_ = status;
      return absl::UnavailableError(absl::StrCat("berthd exited early with wait status ", status));
    }

    // Probing before the socket exists would only put the channel into reconnect backoff.
    if (!PathExists(socket_path_)) {
      std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    // A channel whose connection failed waits out a reconnect backoff of up to seconds, so
    // each probe uses a new one, and the first that works is kept.
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials());
    std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime =
        runtime::v1::RuntimeService::NewStub(channel);
    auto context = NewClientContext(kProbeTimeout);
    runtime::v1::VersionResponse version;
    last = runtime->Version(context.get(), runtime::v1::VersionRequest(), &version);
    if (last.ok()) {
      channel_ = channel;
      runtime_ = std::move(runtime);
      images_ = runtime::v1::ImageService::NewStub(channel_);
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat("Version did not succeed within ",
                                                  timeout.count(),
                                                  " s; last error: ", last.error_message()));
}

absl::StatusOr<int> TestDaemon::Stop(std::chrono::seconds timeout, int signal) {
  if (pid_ <= 0) return wait_status_;
  if (::kill(pid_, signal) != 0 && errno != ESRCH) {
    return ErrnoError(errno, "kill", absl::StrCat("pid ", pid_, " signal ", signal));
  }

  absl::StatusOr<int> status = WaitWithTimeout(pid_, timeout);
  if (!status.ok()) {
    std::fprintf(stderr, "berthd pid %d still runs %ld s after signal %d; sending SIGKILL\n", pid_,
                 static_cast<long>(timeout.count()), signal);
    status = KillAndReap(pid_);
  }
  pid_ = -1;
  wait_status_ = *status;
  return wait_status_;
}

absl::Status TestDaemon::Restart() {
  if (pid_ > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("berthd pid ", pid_, " still runs; stop it before restarting"));
  }
  runtime_.reset();
  images_.reset();
  channel_.reset();
  BERTH_RETURN_IF_ERROR(Launch(options_));
  if (absl::Status status = WaitReady(options_.ready_timeout); !status.ok()) {
    std::string tail = LogTail();
    (void)Stop();
    return Annotate(status,
                    absl::StrCat("restarted berthd did not become ready; log tail:\n", tail));
  }
  return absl::OkStatus();
}

std::string TestDaemon::ReadLog() const {
  absl::StatusOr<std::string> log = ReadFile(log_path_);
  return log.ok() ? *log : std::string();
}

std::string TestDaemon::LogTail() const {
  std::vector<std::string> lines = absl::StrSplit(ReadLog(), '\n');
  if (lines.size() > kLogTailLines) lines.erase(lines.begin(), lines.end() - kLogTailLines);
  return absl::StrJoin(lines, "\n");
}

void TestDaemon::RemoveTempDir() {
  if (temp_dir_.empty()) return;

  // RemoveAll does not cross mounts, so a mount left by a failed test would keep the folder.
  // Detaching such mounts first keeps /tmp clean without ever deleting through them.
  for (const std::string& mount : MountsBelow(temp_dir_)) {
    if (::umount2(mount.c_str(), MNT_DETACH) != 0) {
      std::fprintf(stderr, "could not detach %s: %s\n", mount.c_str(), std::strerror(errno));
    }
  }
  if (!MountsBelow(temp_dir_).empty()) {
    std::fprintf(stderr, "leaving %s in place: mounts remain below it\n", temp_dir_.c_str());
    return;
  }
  if (absl::Status status = RemoveAll(temp_dir_); !status.ok()) {
    std::fprintf(stderr, "could not remove %s: %s\n", temp_dir_.c_str(),
                 std::string(status.message()).c_str());
  }
  temp_dir_.clear();
}

}  // namespace berth::e2e
