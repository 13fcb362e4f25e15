#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/syscalls.h"

namespace berth::runtime {
namespace {

// Opens `path` below `root_fd` with every symlink resolved as if root_fd were "/".
int OpenInRoot(int root_fd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  size_t start = path.find_first_not_of('/');
  std::string relative = start == std::string::npos ? "." : path.substr(start);
  return static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof(how)));
}

std::string Parent(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Returns an O_PATH descriptor of `path` inside the root, creating what is missing.
// Symlinks followed while creating, like the kernel's limit on nested symlinks.
constexpr int kMaxSymlinks = 40;

absl::StatusOr<UniqueFd> OpenOrCreate(int root_fd, const std::string& root, const std::string& path,
                                      FileKind kind, int depth = 0) {
  std::string display = JoinPath(root, path);
  if (depth > kMaxSymlinks) return ErrnoError(ELOOP, "open (in root)", display);
  UniqueFd fd(OpenInRoot(root_fd, path, O_PATH));
  if (fd) return fd;
  if (errno != ENOENT) return ErrnoError(errno, "open (in root)", display);

  std::string parent_path = Parent(path);
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent,
                         OpenOrCreate(root_fd, root, parent_path, FileKind::kDirectory, depth));
  std::string name = BaseName(path);
  if (name.empty() || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("invalid path in root: ", display));
  }
  // The *at calls accept the O_PATH descriptor of the parent as their directory.
  if (kind == FileKind::kDirectory) {
    if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError(errno, "mkdir", display);
    }
  } else {
    UniqueFd created(
        ::openat(parent.get(), name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!created && errno != EEXIST && errno != ELOOP) return ErrnoError(errno, "create", display);
  }

  fd.Reset(OpenInRoot(root_fd, path, O_PATH));
  if (fd) return fd;
  int err = errno;

  // A dangling symlink in the last component: create its target, read as a path in the root.
  char target[4096];
  ssize_t length = ::readlinkat(parent.get(), name.c_str(), target, sizeof(target) - 1);
  if (err != ENOENT || length <= 0) return ErrnoError(err, "open (in root) after create", display);
  std::string link(target, static_cast<size_t>(length));
  std::string resolved = link[0] == '/' ? link : JoinPath(parent_path, link);
  return OpenOrCreate(root_fd, root, resolved, kind, depth + 1);
}

class LinuxSyscalls : public Syscalls {
 public:
  absl::Status Mount(const std::string& source, const std::string& target,
                     const std::string& fstype, unsigned long flags,
                     const std::string& data) override {
    const char* src = source.empty() ? nullptr : source.c_str();
    const char* type = fstype.empty() ? nullptr : fstype.c_str();
    const void* options = data.empty() ? nullptr : data.c_str();
    if (::mount(src, target.c_str(), type, flags, options) != 0) {
      return ErrnoError(errno, "mount", target);
    }
    return absl::OkStatus();
  }

  absl::Status MoveMount(int tree_fd, const std::string& target) override {
    if (::move_mount(tree_fd, "", AT_FDCWD, target.c_str(),
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0) {
      return ErrnoError(errno, "move_mount", target);
    }
    return absl::OkStatus();
  }

  absl::Status Unmount(const std::string& target, int flags) override {
    if (::umount2(target.c_str(), flags) != 0) return ErrnoError(errno, "umount", target);
    return absl::OkStatus();
  }

  absl::StatusOr<ResolvedPath> ResolveInRoot(const std::string& root,
                                             const std::string& container_path,
                                             FileKind kind) override {
    UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) return ErrnoError(errno, "open", root);
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenOrCreate(root_fd.get(), root, container_path, kind));
    ResolvedPath resolved;
    resolved.path = absl::StrCat("/proc/self/fd/", fd.get());
    resolved.display = JoinPath(root, container_path);
    resolved.hold = std::make_shared<UniqueFd>(std::move(fd));
    return resolved;
  }

  absl::StatusOr<FileKind> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", path);
    return S_ISDIR(st.st_mode) ? FileKind::kDirectory : FileKind::kFile;
  }

  absl::Status Mknod(const std::string& path, mode_t mode, dev_t device) override {
    if (::mknod(path.c_str(), mode, device) != 0) return ErrnoError(errno, "mknod", path);
    return absl::OkStatus();
  }

  absl::Status Chmod(const std::string& path, mode_t mode) override {
    if (::chmod(path.c_str(), mode) != 0) return ErrnoError(errno, "chmod", path);
    return absl::OkStatus();
  }

  absl::Status Chown(const std::string& path, uid_t uid, gid_t gid) override {
    if (::lchown(path.c_str(), uid, gid) != 0) return ErrnoError(errno, "chown", path);
    return absl::OkStatus();
  }

  absl::Status Symlink(const std::string& target, const std::string& link) override {
    if (::symlink(target.c_str(), link.c_str()) != 0 && errno != EEXIST) {
      return ErrnoError(errno, "symlink", link);
    }
    return absl::OkStatus();
  }

  absl::Status MakeDirs(const std::string& path) override { return berth::MakeDirs(path, 0755); }

  absl::Status Chdir(const std::string& path) override {
    if (::chdir(path.c_str()) != 0) return ErrnoError(errno, "chdir", path);
    return absl::OkStatus();
  }

  absl::Status PivotRoot(const std::string& new_root) override {
    UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!old_root) return ErrnoError(errno, "open", "/");
    UniqueFd root(::open(new_root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!root) return ErrnoError(errno, "open", new_root);
    if (::fchdir(root.get()) != 0) return ErrnoError(errno, "chdir", new_root);

    // pivot_root(".", ".") stacks the old root on top of the new one at "/", so it needs no
    // directory inside the container. The old root is detached below.
    if (::syscall(SYS_pivot_root, ".", ".") != 0) return ErrnoError(errno, "pivot_root", new_root);
    if (::fchdir(old_root.get()) != 0) return ErrnoError(errno, "chdir", "old root");
    // Keep the detach from propagating to the host's mounts.
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
      return ErrnoError(errno, "mount (make old root rslave)", "/");
    }
    if (::umount2(".", MNT_DETACH) != 0) return ErrnoError(errno, "umount", "old root");
    if (::chdir("/") != 0) return ErrnoError(errno, "chdir", "/");
    return absl::OkStatus();
  }

  absl::Status WriteFile(const std::string& path, const std::string& data) override {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return ErrnoError(errno, "open", path);
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0) return ErrnoError(errno, "write", path);
    if (static_cast<size_t>(n) != data.size()) return ErrnoError(EIO, "write (short)", path);
    return absl::OkStatus();
  }

  absl::Status SetHostname(const std::string& name) override {
    if (::sethostname(name.data(), name.size()) != 0) return ErrnoError(errno, "sethostname", name);
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Syscalls> NewLinuxSyscalls() { return std::make_unique<LinuxSyscalls>(); }

}  // namespace berth::runtime
