// A Syscalls fake that records every call as one line of text and changes nothing, so tests can
// assert the exact mount plan. Stat looks paths up in a table of paths; missing paths are NotFound.
#pragma once

#include <sys/sysmacros.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/syscalls.h"

namespace berth::runtime {

class RecordingSyscalls : public Syscalls {
 public:
  struct MountCall {
    std::string source;
    std::string target;
    std::string fstype;
    unsigned long flags;
    std::string data;
  };

  std::vector<std::string> calls;                    // every call, in order, as text
  std::vector<MountCall> mounts;                     // Mount calls only
  std::map<std::string, FileKind> files;             // what Stat finds
  std::map<std::string, absl::Status> mknod_errors;  // Mknod failures to inject by path

  absl::Status Mount(const std::string& source, const std::string& target,
                     const std::string& fstype, unsigned long flags,
                     const std::string& data) override {
    mounts.push_back({source, target, fstype, flags, data});
    calls.push_back(
        absl::StrCat("mount ", source, " ", target, " ", fstype, " ", flags, " ", data));
    return absl::OkStatus();
  }

  absl::Status MoveMount(int tree_fd, const std::string& target) override {
    calls.push_back(absl::StrCat("move_mount ", tree_fd, " ", target));
    return absl::OkStatus();
  }

  absl::Status Unmount(const std::string& target, int flags) override {
    calls.push_back(absl::StrCat("umount ", target, " ", flags));
    return absl::OkStatus();
  }

  absl::StatusOr<ResolvedPath> ResolveInRoot(const std::string& root,
                                             const std::string& container_path,
                                             FileKind kind) override {
    std::string path = JoinPath(root, container_path);
    calls.push_back(
        absl::StrCat("resolve ", path, kind == FileKind::kDirectory ? " dir" : " file"));
    return ResolvedPath{path, path, nullptr};
  }

  absl::StatusOr<FileKind> Stat(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return ErrnoError(ENOENT, "stat", path);
    return it->second;
  }

  absl::Status Mknod(const std::string& path, mode_t mode, dev_t device) override {
    calls.push_back(
        absl::StrCat("mknod ", path, " ", mode, " ", major(device), ":", minor(device)));
    auto it = mknod_errors.find(path);
    return it == mknod_errors.end() ? absl::OkStatus() : it->second;
  }

  absl::Status Chmod(const std::string& path, mode_t mode) override {
    calls.push_back(absl::StrCat("chmod ", path, " ", mode));
    return absl::OkStatus();
  }

  absl::Status Chown(const std::string& path, uid_t uid, gid_t gid) override {
    calls.push_back(absl::StrCat("chown ", path, " ", uid, ":", gid));
    return absl::OkStatus();
  }

  absl::Status Symlink(const std::string& target, const std::string& link) override {
    calls.push_back(absl::StrCat("symlink ", target, " ", link));
    return absl::OkStatus();
  }

  absl::Status MakeDirs(const std::string& path) override {
    calls.push_back(absl::StrCat("mkdirs ", path));
    return absl::OkStatus();
  }

  absl::Status Chdir(const std::string& path) override {
    calls.push_back(absl::StrCat("chdir ", path));
    return absl::OkStatus();
  }

  absl::Status PivotRoot(const std::string& new_root) override {
    calls.push_back(absl::StrCat("pivot_root ", new_root));
    return absl::OkStatus();
  }

  absl::Status WriteFile(const std::string& path, const std::string& data) override {
    calls.push_back(absl::StrCat("write ", path, " ", data));
    return absl::OkStatus();
  }

  absl::Status SetHostname(const std::string& name) override {
    calls.push_back(absl::StrCat("sethostname ", name));
    return absl::OkStatus();
  }

  // Returns the Mount calls whose target is `target`, in order.
  std::vector<MountCall> MountsOn(const std::string& target) const {
    std::vector<MountCall> found;
    for (const MountCall& call : mounts) {
      if (call.target == target) found.push_back(call);
    }
    return found;
  }
};

}  // namespace berth::runtime
