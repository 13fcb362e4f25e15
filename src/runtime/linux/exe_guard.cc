#include "runtime/linux/exe_guard.h"

#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace berth::runtime {

bool RunningFromReadOnlyBinary() {
  struct statvfs info;
  return ::statvfs("/proc/self/exe", &info) == 0 && (info.f_flag & ST_RDONLY) != 0;
}

absl::Status ReexecFromReadOnlyBinary(char** argv) {
  if (RunningFromReadOnlyBinary()) return absl::OkStatus();

  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return ErrnoError(n < 0 ? errno : EIO, "readlink", "/proc/self/exe");
  std::string path(buffer, static_cast<size_t>(n));
  if (absl::EndsWith(path, " (deleted)")) {
    return absl::FailedPreconditionError(
        absl::StrCat("the binary ", path, " was replaced while running: start it again"));
  }

  // The bind mount must not show up in the host's mount table.
  if (::unshare(CLONE_NEWNS) != 0) return ErrnoError(errno, "unshare", "mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return ErrnoError(errno, "mount (make / rslave)", "/");
  }
  if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoError(errno, "mount (bind)", path);
  }
  // The kernel ignores MS_RDONLY on the first bind; a remount applies it.
  if (::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr) != 0) {
    return ErrnoError(errno, "mount (remount read-only)", path);
  }
  ::execv(path.c_str(), argv);
  return ErrnoError(errno, "execve", path);
}

}  // namespace berth::runtime
