#include "image/fs_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <unistd.h>

#include <memory>
#include <set>
#include <utility>

#include "base/fd.h"
#include "base/file.h"
#include "base/status.h"

namespace berth::image {
namespace {

struct Walk {
  dev_t device = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  TreeUsage usage;
};

void Count(Walk& walk, const struct stat& st) {
  if (!walk.seen.insert({st.st_dev, st.st_ino}).second) return;
  walk.usage.bytes += static_cast<uint64_t>(st.st_blocks) * 512;
  walk.usage.inodes += 1;
}

absl::Status WalkDir(Walk& walk, int dir_fd, const std::string& path) {
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    return ErrnoError(errno, "opendir", path);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> owned(dir, ::closedir);
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoError(errno, "stat", JoinPath(path, name));
    }
    if (st.st_dev != walk.device) continue;  // a mount below the root is not ours
    Count(walk, st);
    if (!S_ISDIR(st.st_mode)) continue;
    int child = ::openat(::dirfd(dir), entry->d_name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) {
      if (errno == ENOENT) continue;
      return ErrnoError(errno, "open", JoinPath(path, name));
    }
    BERTH_RETURN_IF_ERROR(WalkDir(walk, child, JoinPath(path, name)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TreeUsage> MeasureTree(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", dir);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError(err, "stat", dir);
  }
  Walk walk;
  walk.device = st.st_dev;
  Count(walk, st);
  BERTH_RETURN_IF_ERROR(WalkDir(walk, fd, dir));
  return walk.usage;
}

}  // namespace berth::image
