#include "network/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/status.h"

namespace berth::network {
namespace {

constexpr long kNsfsMagic = 0x6e736673;

}  // namespace

absl::Status BringLoopbackUp() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError(errno, "socket", "AF_INET");
  struct ifreq request;
  std::memset(&request, 0, sizeof(request));
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) return ErrnoError(errno, "SIOCGIFFLAGS", "lo");
  request.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) return ErrnoError(errno, "SIOCSIFFLAGS", "lo");
  return absl::OkStatus();
}

namespace {

// Runs on a thread of its own: unshare(CLONE_NEWNET) moves only the calling thread into the new
// namespace, so the daemon's other threads stay where they are, and the thread ends afterwards.
absl::Status MakeAndPin(const std::string& path) {
  if (::unshare(CLONE_NEWNET) != 0) return ErrnoError(errno, "unshare", "CLONE_NEWNET");
  BERTH_RETURN_IF_ERROR(BringLoopbackUp());
  std::string self = absl::StrCat("/proc/self/task/", ::syscall(SYS_gettid), "/ns/net");
  if (::mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoError(errno, "mount --bind " + self, path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CreatePinnedNetns(const std::string& path) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) return ErrnoError(errno, "create", path);
  file.Reset();

  absl::Status status;
  std::thread worker([&] { status = MakeAndPin(path); });
  worker.join();
  if (!status.ok()) {
    ::unlink(path.c_str());
    return Annotate(status, "create network namespace");
  }
  return absl::OkStatus();
}

absl::Status RemovePinnedNetns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoError(errno, "umount", path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "unlink", path);
  return absl::OkStatus();
}

bool IsPinnedNetns(const std::string& path) {
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0) return false;
  return fs.f_type == kNsfsMagic;
}

}  // namespace berth::network
