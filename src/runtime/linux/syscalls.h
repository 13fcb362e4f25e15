// The file-system calls the container setup makes, behind a small interface so that unit tests
// can run the whole mount plan against a recording fake and assert the exact flags, without root.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::runtime {

enum class FileKind { kDirectory, kFile };

// A path resolved inside a root file system, ready to be used as a mount target or a parent
// directory. `path` is what the calls take. On Linux it is "/proc/self/fd/<n>", which pins the
// object found, so a later symlink swap cannot redirect the mount. `display` is for messages.
struct ResolvedPath {
  std::string path;
  std::string display;
  std::shared_ptr<void> hold;  // keeps the pinning descriptor open; may be empty
};

class Syscalls {
 public:
  virtual ~Syscalls() = default;

  // mount(2). `data` empty means no data.
  virtual absl::Status Mount(const std::string& source, const std::string& target,
                             const std::string& fstype, unsigned long flags,
                             const std::string& data) = 0;

  // umount2(2).
  virtual absl::Status Unmount(const std::string& target, int flags) = 0;

  // move_mount(2) of the detached mount tree `tree_fd` (from open_tree) onto `target`.
  virtual absl::Status MoveMount(int tree_fd, const std::string& target) = 0;

  // Resolves `container_path` inside `root`, treating `root` as "/" for every symlink on the way,
  // and creates what is missing: parent directories, then a directory or an empty file as `kind`
  // selects. The result may be used as a mount target.
  virtual absl::StatusOr<ResolvedPath> ResolveInRoot(const std::string& root,
                                                     const std::string& container_path,
                                                     FileKind kind) = 0;

  // stat(2) on a host path or, after PivotRoot, a container path. A missing path is NotFound.
  virtual absl::StatusOr<FileKind> Stat(const std::string& path) = 0;

  virtual absl::Status Mknod(const std::string& path, mode_t mode, dev_t device) = 0;
  virtual absl::Status Chmod(const std::string& path, mode_t mode) = 0;
  virtual absl::Status Chown(const std::string& path, uid_t uid, gid_t gid) = 0;

  // symlink(2): creates `link` pointing to `target`. An existing `link` is success.
  virtual absl::Status Symlink(const std::string& target, const std::string& link) = 0;

  // Creates `path` and its missing parents as directories with mode 0755.
  virtual absl::Status MakeDirs(const std::string& path) = 0;

  virtual absl::Status Chdir(const std::string& path) = 0;

  // Makes `new_root` the root of the mount namespace and detaches the old root, leaving the
  // working directory at the new "/".
  virtual absl::Status PivotRoot(const std::string& new_root) = 0;

  // Writes `data` to an existing file, e.g. /proc/sys/net/ipv4/ip_forward.
  virtual absl::Status WriteFile(const std::string& path, const std::string& data) = 0;

  virtual absl::Status SetHostname(const std::string& name) = 0;
};

// The real calls. ResolveInRoot uses openat2(RESOLVE_IN_ROOT).
std::unique_ptr<Syscalls> NewLinuxSyscalls();

}  // namespace berth::runtime
