#include "runtime/shim/protocol.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace berth::runtime {
namespace {

// Fills `address` for `path`. A path too long for sun_path is reached through the directory's
// descriptor, which `dir_fd` then keeps open until the call is made.
absl::Status FillAddress(const std::string& path, struct sockaddr_un* address, UniqueFd* dir_fd) {
  std::memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  std::string target = path;
  if (target.size() >= sizeof(address->sun_path)) {
    auto slash = path.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    dir_fd->Reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!*dir_fd) return ErrnoError(errno, "open", dir);
    target = absl::StrCat("/proc/self/fd/", dir_fd->get(), "/", path.substr(slash + 1));
    if (target.size() >= sizeof(address->sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat("socket name too long: ", path));
    }
  }
  std::memcpy(address->sun_path, target.c_str(), target.size());
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const std::string& data) {
  size_t offset = 0;
  while (offset < data.size()) {
    ssize_t n = ::send(fd, data.data() + offset, data.size() - offset, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "write", "shim socket");
    }
    offset += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadLine(int fd, absl::Time deadline) {
  std::string buffer;
  while (buffer.find('\n') == std::string::npos) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("timed out waiting for the shim's response");
    }
    struct pollfd poll_fd = {fd, POLLIN, 0};
    int ready = ::poll(&poll_fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return ErrnoError(errno, "poll", "shim socket");
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read", "shim socket");
    }
    if (n == 0) return absl::UnavailableError("the shim closed the connection without responding");
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return buffer.substr(0, buffer.find('\n'));
}

}  // namespace

absl::StatusOr<UniqueFd> ListenUnix(const std::string& path) {
  struct sockaddr_un address;
  UniqueFd dir_fd;
  BERTH_RETURN_IF_ERROR(FillAddress(path, &address, &dir_fd));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return ErrnoError(errno, "socket");
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoError(errno, "bind", path);
  }
  ::chmod(path.c_str(), 0600);
  if (::listen(fd.get(), 16) != 0) return ErrnoError(errno, "listen", path);
  return fd;
}

absl::StatusOr<UniqueFd> ConnectUnix(const std::string& path) {
  struct sockaddr_un address;
  UniqueFd dir_fd;
  BERTH_RETURN_IF_ERROR(FillAddress(path, &address, &dir_fd));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoError(errno, "socket");
  while (::connect(fd.get(), reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return absl::UnavailableError(
          absl::StrCat("shim not running: connect ", path, ": ", std::strerror(err)));
    }
    return ErrnoError(err, "connect", path);
  }
  return fd;
}

absl::StatusOr<nlohmann::json> CallShim(const std::string& socket_path,
                                        const nlohmann::json& request, absl::Time deadline) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, ConnectUnix(socket_path));
  BERTH_RETURN_IF_ERROR(WriteAll(fd.get(), request.dump() + "\n"));
  BERTH_ASSIGN_OR_RETURN(std::string line, ReadLine(fd.get(), deadline));

  nlohmann::json response = nlohmann::json::parse(line, nullptr, false);
  if (response.is_discarded() || !response.is_object()) {
    return absl::InternalError(absl::StrCat("invalid response from the shim: ", line));
  }
  if (response.value("ok", false)) {
    if (response.contains("state") && response["state"].is_object()) return response["state"];
    return nlohmann::json::object();
  }
  int code = response.value("code", static_cast<int>(absl::StatusCode::kInternal));
  if (code <= 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    code = static_cast<int>(absl::StatusCode::kInternal);
  }
  return absl::Status(static_cast<absl::StatusCode>(code), response.value("error", "shim error"));
}

nlohmann::json OkResponse(const nlohmann::json& state) { return {{"ok", true}, {"state", state}}; }

nlohmann::json ErrorResponse(const absl::Status& status) {
  return {{"ok", false},
          {"code", static_cast<int>(status.code())},
          {"error", std::string(status.message())}};
}

}  // namespace berth::runtime
