#include "base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/status.h"

namespace berth {
namespace {

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError(errno, "open", dir);
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, "fsync", dir);
  return absl::OkStatus();
}

// Removes the contents of the directory open at `dirfd`, then nothing else.
absl::Status RemoveContents(int dirfd, const std::string& path, dev_t device) {
  DIR* dir = ::fdopendir(::dup(dirfd));
  if (dir == nullptr) return ErrnoError(errno, "opendir", path);
  absl::Status result;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string child = JoinPath(path, name);
    struct stat st;
    if (::fstatat(dirfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      result = ErrnoError(errno, "stat", child);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != device) {
        result = ErrnoError(EBUSY, "remove (mount point below)", child);
        break;
      }
      UniqueFd sub(::openat(dirfd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        result = ErrnoError(errno, "open", child);
        break;
      }
      result = RemoveContents(sub.get(), child, device);
      if (!result.ok()) break;
      if (::unlinkat(dirfd, entry->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        result = ErrnoError(errno, "rmdir", child);
        break;
      }
    } else if (::unlinkat(dirfd, entry->d_name, 0) != 0 && errno != ENOENT) {
      result = ErrnoError(errno, "unlink", child);
      break;
    }
  }
  ::closedir(dir);
  return result;
}

}  // namespace

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(errno, "open", path);
  std::string data;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read", path);
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

absl::Status WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return ErrnoError(errno, "open", path);
  return WriteAll(fd.get(), data, path);
}

namespace {

// Writes `data` to a temporary file beside `path`, optionally fsyncs it, and renames it over
// `path`.
absl::Status WriteThroughTempFile(const std::string& path, std::string_view data, mode_t mode,
                                  bool sync) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::string temp = absl::StrCat(path, ".tmp-", random() % 1000000000);
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) return ErrnoError(errno, "open", temp);
    absl::Status written = WriteAll(fd.get(), data, temp);
    if (written.ok() && sync && ::fsync(fd.get()) != 0) written = ErrnoError(errno, "fsync", temp);
    if (!written.ok()) {
      ::unlink(temp.c_str());
      return written;
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return ErrnoError(err, "rename", path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  BERTH_RETURN_IF_ERROR(WriteThroughTempFile(path, data, mode, true));
  return FsyncDir(DirName(path));
}

absl::Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode) {
  return WriteThroughTempFile(path, data, mode, false);
}

absl::Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return absl::InvalidArgumentError("MakeDirs: empty path");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return ErrnoError(ENOTDIR, "mkdir", path);
  }
  std::string parent = DirName(path);
  if (parent != path && parent != "/" && parent != ".") {
    BERTH_RETURN_IF_ERROR(MakeDirs(parent, mode));
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return ErrnoError(errno, "mkdir", path);
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return ErrnoError(errno, "open", path);
    BERTH_RETURN_IF_ERROR(RemoveContents(fd.get(), path, st.st_dev));
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "rmdir", path);
    return absl::OkStatus();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "unlink", path);
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string result(a);
  while (result.size() > 1 && result.back() == '/') result.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (result != "/") result += '/';
  result += b;
  return result;
}

}  // namespace berth
