// The container's file system, built inside its new mount namespace: propagation, the overlay
// root, the spec mounts, device nodes, pivot_root, then masked and read-only paths.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/syscalls.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct RootfsOptions {
  const Spec* spec = nullptr;
  std::string root;                    // absolute host path of the root file system
  std::optional<Mount> rootfs_mount;   // mounted on `root` before anything else
  bool root_mounted = false;           // `root` is a mount point already: no bind onto itself
  // Bind mounts whose source is a detached mount tree made beforehand, by index in spec.mounts:
  // the tree is moved onto the destination instead of binding the source path.
  std::map<size_t, int> bind_trees;
  std::vector<CgroupDir> cgroup_dirs;  // what a mount of type "cgroup" shows
  size_t page_size = 4096;             // limit of mount(2) data
};

// Runs every step up to and including pivot_root: makes "/" private (or as rootfsPropagation
// sets), mounts the rootfs overlay, binds the root onto itself, mounts each spec mount in order
// (each destination resolved inside the root, never through a symlink out of it), creates the
// device nodes (a bind of the host node when mknod is not permitted) and the /dev symlinks, and
// pivots. Errors name the step and the path.
absl::Status PrepareRootfs(Syscalls& sys, const RootfsOptions& options);

// Runs the steps after pivot_root and after sysctls: masks maskedPaths (a read-only tmpfs on a
// directory, /dev/null on a file), makes readonlyPaths read-only, and remounts "/" read-only when
// root.readonly is set. Paths missing in the container are skipped.
absl::Status FinishRootfs(Syscalls& sys, const Spec& spec);

}  // namespace berth::runtime
