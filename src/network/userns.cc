#include "network/userns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/status.h"
#include "network/netns.h"

namespace berth::network {
namespace {

// The child's report over the socket: the step it reached and an errno (0 when done).
struct ChildReport {
  int step = 0;
  int error = 0;
};

constexpr int kStepUserns = 1;  // unshare(CLONE_NEWUSER)
constexpr int kStepNetns = 2;   // unshare(CLONE_NEWNET)
constexpr int kStepLoopback = 3;

const char* StepName(int step) {
  switch (step) {
    case kStepUserns:
      return "unshare (CLONE_NEWUSER)";
    case kStepNetns:
      return "unshare (CLONE_NEWNET)";
    default:
      return "bring loopback up";
  }
}

void Report(int fd, int step, int error) {
  ChildReport report{step, error};
  (void)!::write(fd, &report, sizeof(report));
}

// The forked child: makes the user namespace, waits until the parent wrote its maps, makes the
// network namespace inside it, and waits until the parent pinned both. It runs in a fork of a
// multithreaded process, so it only makes system calls.
[[noreturn]] void RunChild(int fd, bool with_netns) {
  if (::unshare(CLONE_NEWUSER) != 0) {
    Report(fd, kStepUserns, errno);
    ::_exit(1);
  }
  Report(fd, kStepUserns, 0);
  char go = 0;
  if (::read(fd, &go, 1) != 1) ::_exit(1);
  if (with_netns) {
    if (::unshare(CLONE_NEWNET) != 0) {
      Report(fd, kStepNetns, errno);
      ::_exit(1);
    }
    if (!BringLoopbackUp().ok()) {
      Report(fd, kStepLoopback, errno);
      ::_exit(1);
    }
  }
  Report(fd, kStepNetns, 0);
  // Held until the parent closes its end.
  while (::read(fd, &go, 1) > 0) {
  }
  ::_exit(0);
}

absl::Status ReadReport(int fd, pid_t child) {
  ChildReport report;
  ssize_t n;
  do {
    n = ::read(fd, &report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(report))) {
    return absl::InternalError(absl::StrCat("namespace helper ", child, " exited early"));
  }
  if (report.error != 0) return ErrnoError(report.error, StepName(report.step));
  return absl::OkStatus();
}

absl::Status WriteMap(pid_t child, const char* name, const std::string& map) {
  std::string path = absl::StrCat("/proc/", child, "/", name);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(errno, "open", path);
  // The kernel wants the whole map in one write.
  if (::write(fd.get(), map.data(), map.size()) != static_cast<ssize_t>(map.size())) {
    return ErrnoError(errno, absl::StrCat("write ", name, " \"", map, "\""), path);
  }
  return absl::OkStatus();
}

absl::Status Pin(pid_t child, const char* ns, const std::string& path, CleanupStack& cleanup) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) return ErrnoError(errno, "create", path);
  cleanup.Push("remove " + path, [path] { return RemovePinnedUserns(path); });
  std::string source = absl::StrCat("/proc/", child, "/ns/", ns);
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoError(errno, "mount --bind " + source, path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CreatePinnedUserns(const std::string& userns_path, const std::string& netns_path,
                                const std::string& uid_map, const std::string& gid_map) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoError(errno, "socketpair");
  }
  UniqueFd parent_end(pair[0]);
  UniqueFd child_end(pair[1]);
  pid_t child = ::fork();
  if (child < 0) return ErrnoError(errno, "fork");
  if (child == 0) {
    parent_end.Reset();
    RunChild(child_end.get(), !netns_path.empty());
  }
  child_end.Reset();

  CleanupStack cleanup;
  absl::Status status = ReadReport(parent_end.get(), child);
  if (status.ok()) status = WriteMap(child, "uid_map", uid_map);
  if (status.ok()) status = WriteMap(child, "gid_map", gid_map);
  if (status.ok() && ::write(parent_end.get(), "g", 1) != 1) status = ErrnoError(errno, "write");
  if (status.ok()) status = ReadReport(parent_end.get(), child);
  if (status.ok()) status = Pin(child, "user", userns_path, cleanup);
  if (status.ok() && !netns_path.empty()) status = Pin(child, "net", netns_path, cleanup);

  parent_end.Reset();
  if (!status.ok()) ::kill(child, SIGKILL);
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!status.ok()) return Annotate(status, "create user namespace");
  cleanup.Disarm();
  return absl::OkStatus();
}

absl::Status RemovePinnedUserns(const std::string& path) {
  // The same steps as for a network namespace: lazy unmount, then unlink.
  return RemovePinnedNetns(path);
}

}  // namespace berth::network
