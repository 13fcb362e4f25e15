#include "runtime/linux/sync_channel.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace berth::runtime {
namespace {

void SendLine(int fd, const nlohmann::json& message) {
  std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    left -= static_cast<size_t>(n);
  }
}

absl::StatusOr<SyncMessage> ParseLine(const std::string& line) {
  nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    return absl::InternalError(absl::StrCat("bad message from the container setup: ", line));
  }
  SyncMessage out;
  if (message.contains("pid") && message["pid"].is_number_integer()) {
    out.kind = SyncMessage::Kind::kPid;
    out.pid = message["pid"].get<pid_t>();
  } else if (message.contains("warning") && message["warning"].is_string()) {
    out.kind = SyncMessage::Kind::kWarning;
    out.warning = message["warning"].get<std::string>();
  } else if (message.contains("ready")) {
    out.kind = SyncMessage::Kind::kReady;
  } else if (message.contains("error") && message["error"].is_string()) {
    out.kind = SyncMessage::Kind::kError;
    int code = message.value("code", static_cast<int>(absl::StatusCode::kInternal));
    if (code <= 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
      code = static_cast<int>(absl::StatusCode::kInternal);
    }
    out.error =
        absl::Status(static_cast<absl::StatusCode>(code), message["error"].get<std::string>());
  } else {
    return absl::InternalError(absl::StrCat("bad message from the container setup: ", line));
  }
  return out;
}

}  // namespace

void SendPid(int fd, pid_t pid) { SendLine(fd, {{"pid", pid}}); }

void SendWarning(int fd, const std::string& text) { SendLine(fd, {{"warning", text}}); }

void SendReady(int fd) { SendLine(fd, {{"ready", true}}); }

void SendError(int fd, const absl::Status& status) {
  SendLine(fd,
           {{"error", std::string(status.message())}, {"code", static_cast<int>(status.code())}});
}

absl::StatusOr<SyncMessage> SyncReader::Next(absl::Time deadline) {
  while (true) {
    auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return ParseLine(line);
    }

    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("timed out waiting for the container setup");
    }
    struct pollfd poll_fd = {fd_, POLLIN, 0};
    int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    int ready = ::poll(&poll_fd, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "poll", "sync channel");
    }
    if (ready == 0) continue;

    char chunk[4096];
    ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return SyncMessage{};
      return ErrnoError(errno, "read", "sync channel");
    }
    if (n == 0) return SyncMessage{};
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace berth::runtime
