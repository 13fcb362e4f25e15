#include "runtime/shim/shim_server.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <list>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"
#include "runtime/shim/protocol.h"

namespace berth::runtime {
namespace {

constexpr size_t kMaxClients = 64;
constexpr size_t kMaxRequestSize = 64 * 1024;
// How long output is still copied after the container exited, for pipes that other processes
// of the container keep open.
constexpr absl::Duration kDrainTimeout = absl::Seconds(2);
constexpr absl::Duration kStartTimeout = absl::Seconds(30);

class ShimServer {
 public:
  explicit ShimServer(ShimServerArgs args)
      : args_(std::move(args)),
        log_(Logger("shim")),
        stdout_splitter_(LogStream::kStdout, [this](const std::string& line) { AppendLog(line); }),
        stderr_splitter_(LogStream::kStderr, [this](const std::string& line) { AppendLog(line); }) {
  }

  int Run();

 private:
  struct Client {
    UniqueFd fd;
    std::string buffer;
    bool waiting = false;  // gets its response when the container stops
    bool done = false;     // to be dropped
  };

  const std::string& id() const { return args_.state.id; }
  void AppendLog(const std::string& line);
  void SaveState();
  void OnSignal();
  void OnOutput(LogStream stream);
  void OnAccept();
  void OnClient(Client& client);
  void Respond(Client& client, const nlohmann::json& response);
  nlohmann::json Handle(const nlohmann::json& request, Client& client);
  absl::Status StartContainer();
  absl::Status KillContainer(int signal, bool all);
  void RecordExit(int wait_status);
  void Finish();

  ShimServerArgs args_;
  std::shared_ptr<spdlog::logger> log_;
  CriLogFile log_file_;
  CriLineSplitter stdout_splitter_;
  CriLineSplitter stderr_splitter_;
  std::list<Client> clients_;
  bool exited_ = false;
  absl::Time drain_deadline_;
};

void ShimServer::AppendLog(const std::string& line) {
  absl::Status status = log_file_.Append(line);
  if (!status.ok()) {
    log_->warn("cannot write container log container={} error=\"{}\"", id(), status.ToString());
  }
}

void ShimServer::SaveState() {
  absl::Status status = WriteJsonFileAtomic(args_.paths.state(), StateToJson(args_.state));
  if (!status.ok()) {
    log_->error("cannot save state container={} error=\"{}\"", id(), status.ToString());
  }
}

void ShimServer::OnSignal() {
  struct signalfd_siginfo info;
  while (::read(args_.signal_fd.get(), &info, sizeof(info)) == sizeof(info)) {
  }
  // Reap everything: the container process, and orphans handed to this subreaper.
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    if (pid == args_.state.pid && !exited_) RecordExit(status);
  }
}

void ShimServer::OnOutput(LogStream stream) {
  UniqueFd& fd = stream == LogStream::kStdout ? args_.stdout_read : args_.stderr_read;
  CriLineSplitter& splitter = stream == LogStream::kStdout ? stdout_splitter_ : stderr_splitter_;
  char buffer[65536];
  ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    splitter.Finish(NowNanos());
    fd.Reset();
    return;
  }
  splitter.Feed(buffer, static_cast<size_t>(n), NowNanos());
}

void ShimServer::OnAccept() {
  while (true) {
    int fd = ::accept4(args_.listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_.size() >= kMaxClients) {
      ::close(fd);
      log_->warn("too many control connections, dropping one container={}", id());
      continue;
    }
    clients_.push_back(Client{UniqueFd(fd), "", false, false});
  }
}

void ShimServer::Respond(Client& client, const nlohmann::json& response) {
  std::string line = response.dump() + "\n";
  // Responses are small, so a non-blocking send fits in the socket buffer.
  ::send(client.fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  client.done = true;
}

void ShimServer::OnClient(Client& client) {
  char chunk[4096];
  ssize_t n = ::read(client.fd.get(), chunk, sizeof(chunk));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    client.done = true;
    return;
  }
  if (client.waiting) return;  // nothing more is expected from a waiting client
  client.buffer.append(chunk, static_cast<size_t>(n));
  auto newline = client.buffer.find('\n');
  if (newline == std::string::npos) {
    if (client.buffer.size() > kMaxRequestSize) client.done = true;
    return;
  }
  nlohmann::json request = nlohmann::json::parse(client.buffer.substr(0, newline), nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    Respond(client, ErrorResponse(absl::InvalidArgumentError("request is not a JSON object")));
    return;
  }
  nlohmann::json response = Handle(request, client);
  if (!response.is_null()) Respond(client, response);
}

nlohmann::json ShimServer::Handle(const nlohmann::json& request, Client& client) {
  std::string op = request.value("op", "");
  if (op == "state") return OkResponse(StateToJson(args_.state));
  if (op == "wait") {
    if (exited_ && args_.state.status == ContainerStatus::kStopped) {
      return OkResponse(StateToJson(args_.state));
    }
    client.waiting = true;
    return nullptr;
  }
  if (op == "start") {
    absl::Status status = StartContainer();
    if (!status.ok()) return ErrorResponse(status);
    return OkResponse(StateToJson(args_.state));
  }
  if (op == "kill") {
    int signal = request.value("signal", SIGTERM);
    absl::Status status = KillContainer(signal, request.value("all", false));
    if (!status.ok()) return ErrorResponse(status);
    return OkResponse(StateToJson(args_.state));
  }
  if (op == "reopen-log") {
    absl::Status status = log_file_.Reopen();
    if (!status.ok()) return ErrorResponse(status);
    return OkResponse(StateToJson(args_.state));
  }
  return ErrorResponse(absl::InvalidArgumentError(absl::StrCat("unknown op \"", op, "\"")));
}

absl::Status ShimServer::StartContainer() {
  if (args_.state.status != ContainerStatus::kCreated || exited_) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", id(), " cannot start: it is ", StatusName(args_.state.status)));
  }
  absl::Status status = args_.container->Start(kStartTimeout);
  if (!status.ok()) {
    log_->warn("start failed container={} error=\"{}\"", id(), status.ToString());
    args_.state.message = std::string(status.message());
    return status;
  }
  args_.state.status = ContainerStatus::kRunning;
  args_.state.started_at = NowNanos();
  SaveState();
  log_->info("container started container={} pid={}", id(), args_.state.pid);
  return absl::OkStatus();
}

absl::Status ShimServer::KillContainer(int signal, bool all) {
  if (exited_) return absl::OkStatus();
  if (all) {
    absl::StatusOr<std::vector<pid_t>> pids = CgroupPids(args_.container->cgroup_dirs());
    if (pids.ok()) {
      for (pid_t pid : *pids) ::kill(pid, signal);
    } else {
      log_->warn("cannot list cgroup processes container={} error=\"{}\"", id(),
                 pids.status().ToString());
    }
  }
  if (::kill(args_.state.pid, signal) != 0 && errno != ESRCH) {
    return ErrnoError(errno, "kill", absl::StrCat("pid ", args_.state.pid, " signal ", signal));
  }
  log_->info("signal sent container={} pid={} signal={} all={}", id(), args_.state.pid, signal,
             all);
  return absl::OkStatus();
}

void ShimServer::RecordExit(int wait_status) {
  ContainerState& state = args_.state;
  exited_ = true;
  drain_deadline_ = absl::Now() + kDrainTimeout;
  state.finished_at = NowNanos();
  if (WIFSIGNALED(wait_status)) {
    state.signal = WTERMSIG(wait_status);
    state.exit_code = 128 + state.signal;
  } else {
    state.exit_code = WEXITSTATUS(wait_status);
  }
  state.oom_killed = CgroupOomKills(args_.container->cgroup_dirs()) > 0;
  if (state.oom_killed) {
    state.reason = "OOMKilled";
  } else {
    state.reason = state.exit_code == 0 ? "Completed" : "Error";
  }
  log_->info("container exited container={} pid={} exit_code={} signal={} oom={}", id(), state.pid,
             state.exit_code, state.signal, state.oom_killed);
}

void ShimServer::Finish() {
  args_.state.status = ContainerStatus::kStopped;
  nlohmann::json record = StateToJson(args_.state);
  absl::Status saved = WriteJsonFileAtomic(args_.paths.exit(), record);
  if (!saved.ok()) {
    log_->error("cannot record exit container={} error=\"{}\"", id(), saved.ToString());
  }
  SaveState();
  for (Client& client : clients_) {
    if (client.waiting && !client.done) Respond(client, OkResponse(record));
  }
  ::unlink(args_.paths.socket().c_str());
}

int ShimServer::Run() {
  absl::Status opened = log_file_.Open(args_.log_path);
  if (!opened.ok()) {
    log_->error("cannot open container log container={} error=\"{}\"", id(), opened.ToString());
  }
  SaveState();

  while (!exited_ || ((args_.stdout_read || args_.stderr_read) && absl::Now() < drain_deadline_)) {
    std::vector<struct pollfd> fds = {{args_.signal_fd.get(), POLLIN, 0},
                                      {args_.listener.get(), POLLIN, 0},
                                      {args_.stdout_read.get(), POLLIN, 0},
                                      {args_.stderr_read.get(), POLLIN, 0}};
    for (Client& client : clients_) fds.push_back({client.fd.get(), POLLIN, 0});
    int timeout = -1;
    if (exited_) {
      timeout = static_cast<int>(absl::ToInt64Milliseconds(drain_deadline_ - absl::Now())) + 1;
    }
    int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno != EINTR) {
      log_->error("poll failed container={} errno={}", id(), errno);
      break;
    }
    if (ready <= 0) continue;

    if (fds[0].revents) OnSignal();
    if (fds[1].revents) OnAccept();
    if (fds[2].revents && args_.stdout_read) OnOutput(LogStream::kStdout);
    if (fds[3].revents && args_.stderr_read) OnOutput(LogStream::kStderr);
    size_t index = 4;
    for (Client& client : clients_) {
      if (index < fds.size() && fds[index].revents && !client.done) OnClient(client);
      ++index;
    }
    clients_.remove_if([](const Client& client) { return client.done; });
  }

  // Output still buffered in an unterminated line is written as a partial line.
  stdout_splitter_.Finish(NowNanos());
  stderr_splitter_.Finish(NowNanos());
  Finish();
  return 0;
}

}  // namespace

int RunShimServer(ShimServerArgs args) {
  ShimServer server(std::move(args));
  return server.Run();
}

}  // namespace berth::runtime
