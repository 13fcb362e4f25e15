#include "runtime/linux/rootfs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/mount_options.h"

namespace berth::runtime {
namespace {

// Flags a bind remount may carry; MS_BIND and MS_REC only matter for the first mount.
constexpr unsigned long kRemountableFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                            MS_SYNCHRONOUS | MS_DIRSYNC | MS_NOATIME |
                                            MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

std::string Parent(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::Status MountRootfsOverlay(Syscalls& sys, const RootfsOptions& options) {
  const Mount& mount = *options.rootfs_mount;
  ParsedMountOptions parsed = ParseMountOptions(mount.options);
  std::string type = mount.type.empty() ? "overlay" : mount.type;
  std::string data = parsed.data;
  if (type == "overlay") {
    BERTH_ASSIGN_OR_RETURN(OverlayData fit, FitOverlayData(parsed.data, options.page_size));
    if (!fit.chdir.empty()) BERTH_RETURN_IF_ERROR(sys.Chdir(fit.chdir));
    data = fit.data;
  }
  std::string source = mount.source.empty() ? type : mount.source;
  return Annotate(sys.Mount(source, options.root, type, parsed.flags, data), "mount rootfs");
}

// Binds `source` on the destination; a second, remounting call applies flags such as "ro",
// because the kernel ignores them on the first bind.
absl::Status BindMount(Syscalls& sys, const std::string& root, const Mount& mount,
                       const ParsedMountOptions& parsed, int tree_fd = -1) {
  BERTH_ASSIGN_OR_RETURN(FileKind kind, sys.Stat(mount.source));
  BERTH_ASSIGN_OR_RETURN(ResolvedPath target, sys.ResolveInRoot(root, mount.destination, kind));
  if (tree_fd >= 0) {
    BERTH_RETURN_IF_ERROR(sys.MoveMount(tree_fd, target.path));
  } else {
    BERTH_RETURN_IF_ERROR(
        sys.Mount(mount.source, target.path, "", MS_BIND | (parsed.flags & MS_REC), ""));
  }

  unsigned long extra = parsed.flags & kRemountableFlags;
  if (extra == 0) return absl::OkStatus();
  // Resolve again: the first descriptor pins the directory under the new mount, not the mount.
  BERTH_ASSIGN_OR_RETURN(ResolvedPath mounted, sys.ResolveInRoot(root, mount.destination, kind));
  return sys.Mount("", mounted.path, "", MS_BIND | MS_REMOUNT | extra, "");
}

// A "cgroup" mount shows the container's own cgroup directories. On v1 (and hybrid) it is a tmpfs
// with one bind per hierarchy, named like the host's mount points. On v2 it is one bind.
absl::Status MountCgroup(Syscalls& sys, const RootfsOptions& options, const Mount& mount,
                         const ParsedMountOptions& parsed) {
  const std::string& root = options.root;
  unsigned long bind_flags = parsed.flags & kRemountableFlags;
  bool v2_only = options.cgroup_dirs.size() == 1 && options.cgroup_dirs[0].unified;
  if (v2_only) {
    Mount bind{mount.destination, "bind", options.cgroup_dirs[0].path, {}};
    ParsedMountOptions flags = parsed;
    flags.flags = bind_flags | MS_BIND | MS_REC;
    return BindMount(sys, root, bind, flags);
  }

  BERTH_ASSIGN_OR_RETURN(ResolvedPath target,
                         sys.ResolveInRoot(root, mount.destination, FileKind::kDirectory));
  unsigned long tmpfs_flags = (parsed.flags & kRemountableFlags) & ~MS_RDONLY;
  BERTH_RETURN_IF_ERROR(sys.Mount("tmpfs", target.path, "tmpfs", tmpfs_flags, "mode=755"));
  for (const CgroupDir& dir : options.cgroup_dirs) {
    std::string destination = JoinPath(mount.destination, dir.name);
    Mount bind{destination, "bind", dir.path, {}};
    ParsedMountOptions flags;
    flags.flags = bind_flags | MS_BIND | MS_REC;
    BERTH_RETURN_IF_ERROR(BindMount(sys, root, bind, flags));
    for (const std::string& controller : dir.controllers) {
      if (controller == dir.name || controller.rfind("name=", 0) == 0) continue;
      BERTH_ASSIGN_OR_RETURN(ResolvedPath parent,
                             sys.ResolveInRoot(root, mount.destination, FileKind::kDirectory));
      BERTH_RETURN_IF_ERROR(sys.Symlink(dir.name, JoinPath(parent.path, controller)));
    }
  }
  if ((parsed.flags & MS_RDONLY) == 0) return absl::OkStatus();
  BERTH_ASSIGN_OR_RETURN(ResolvedPath mounted,
                         sys.ResolveInRoot(root, mount.destination, FileKind::kDirectory));
  return sys.Mount("", mounted.path, "", MS_REMOUNT | MS_RDONLY | tmpfs_flags, "");
}

absl::Status MountEntry(Syscalls& sys, const RootfsOptions& options, size_t index) {
  const std::string& root = options.root;
  const Mount& mount = options.spec->mounts[index];
  ParsedMountOptions parsed = ParseMountOptions(mount.options);
  if (mount.type == "cgroup") return MountCgroup(sys, options, mount, parsed);

  if (parsed.bind || mount.type == "bind") {
    auto tree = options.bind_trees.find(index);
    int tree_fd = tree == options.bind_trees.end() ? -1 : tree->second;
    BERTH_RETURN_IF_ERROR(BindMount(sys, root, mount, parsed, tree_fd));
  } else {
    BERTH_ASSIGN_OR_RETURN(ResolvedPath target,
                           sys.ResolveInRoot(root, mount.destination, FileKind::kDirectory));
    BERTH_RETURN_IF_ERROR(
        sys.Mount(mount.source, target.path, mount.type, parsed.flags, parsed.data));
  }

  if (parsed.propagation == 0) return absl::OkStatus();
  // The destination exists by now, so the kind passed here creates nothing.
  BERTH_ASSIGN_OR_RETURN(ResolvedPath mounted,
                         sys.ResolveInRoot(root, mount.destination, FileKind::kDirectory));
  return sys.Mount("", mounted.path, "", parsed.propagation, "");
}

absl::Status CreateDevice(Syscalls& sys, const std::string& root, const Device& device) {
  mode_t type = S_IFCHR;
  if (device.type == "b") type = S_IFBLK;
  if (device.type == "p") type = S_IFIFO;
  mode_t permissions = device.file_mode.value_or(0666) & 07777;

  BERTH_ASSIGN_OR_RETURN(ResolvedPath dir,
                         sys.ResolveInRoot(root, Parent(device.path), FileKind::kDirectory));
  std::string node = JoinPath(dir.path, BaseName(device.path));
  dev_t number = makedev(static_cast<unsigned>(device.major), static_cast<unsigned>(device.minor));
  absl::Status made = sys.Mknod(node, type | permissions, number);
  if (absl::IsAlreadyExists(made)) return absl::OkStatus();
  if (absl::IsPermissionDenied(made)) {
    // Without CAP_MKNOD (or in a user namespace) the host's node is bound in instead.
    BERTH_ASSIGN_OR_RETURN(ResolvedPath target,
                           sys.ResolveInRoot(root, device.path, FileKind::kFile));
    return sys.Mount(device.path, target.path, "", MS_BIND, "");
  }
  BERTH_RETURN_IF_ERROR(made);
  BERTH_RETURN_IF_ERROR(sys.Chmod(node, permissions));
  return sys.Chown(node, device.uid.value_or(0), device.gid.value_or(0));
}

absl::Status CreateDevSymlinks(Syscalls& sys, const Spec& spec, const std::string& root) {
  BERTH_ASSIGN_OR_RETURN(ResolvedPath dev, sys.ResolveInRoot(root, "/dev", FileKind::kDirectory));
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                       {"/proc/self/fd/0", "stdin"},
                                                       {"/proc/self/fd/1", "stdout"},
                                                       {"/proc/self/fd/2", "stderr"}};
  for (const auto& [target, name] : links) {
    BERTH_RETURN_IF_ERROR(sys.Symlink(target, JoinPath(dev.path, name)));
  }
  for (const Mount& mount : spec.mounts) {
    if (mount.destination == "/dev/pts" && mount.type == "devpts") {
      return sys.Symlink("pts/ptmx", JoinPath(dev.path, "ptmx"));
    }
  }
  return absl::OkStatus();
}

absl::Status MaskPath(Syscalls& sys, const std::string& path) {
  absl::StatusOr<FileKind> kind = sys.Stat(path);
  if (absl::IsNotFound(kind.status())) return absl::OkStatus();
  BERTH_RETURN_IF_ERROR(kind.status());
  if (*kind == FileKind::kDirectory) return sys.Mount("tmpfs", path, "tmpfs", MS_RDONLY, "");
  return sys.Mount("/dev/null", path, "", MS_BIND, "");
}

absl::Status MakeReadonly(Syscalls& sys, const std::string& path) {
  absl::StatusOr<FileKind> kind = sys.Stat(path);
  if (absl::IsNotFound(kind.status())) return absl::OkStatus();
  BERTH_RETURN_IF_ERROR(kind.status());
  BERTH_RETURN_IF_ERROR(sys.Mount(path, path, "", MS_BIND | MS_REC, ""));
  return sys.Mount("", path, "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, "");
}

}  // namespace

absl::Status PrepareRootfs(Syscalls& sys, const RootfsOptions& options) {
  const Spec& spec = *options.spec;
  const std::string& root = options.root;

  // Nothing mounted below may reach the host's mount table.
  BERTH_RETURN_IF_ERROR(
      Annotate(sys.Mount("", "/", "", RootPropagationFlags(spec.linux.rootfs_propagation), ""),
               "make mounts private"));

  if (options.rootfs_mount) BERTH_RETURN_IF_ERROR(MountRootfsOverlay(sys, options));

  // pivot_root needs the new root to be a mount point of its own.
  if (!options.root_mounted) {
    BERTH_RETURN_IF_ERROR(
        Annotate(sys.Mount(root, root, "", MS_BIND | MS_REC, ""), "bind rootfs onto itself"));
  }

  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& mount = spec.mounts[i];
    BERTH_RETURN_IF_ERROR(Annotate(MountEntry(sys, options, i),
                                   absl::StrCat("mount ", mount.type, " on ", mount.destination)));
  }

  for (const Device& device : spec.linux.devices) {
    BERTH_RETURN_IF_ERROR(
        Annotate(CreateDevice(sys, root, device), absl::StrCat("create device ", device.path)));
  }
  BERTH_RETURN_IF_ERROR(Annotate(CreateDevSymlinks(sys, spec, root), "create /dev symlinks"));

  return Annotate(sys.PivotRoot(root), "pivot_root");
}

absl::Status FinishRootfs(Syscalls& sys, const Spec& spec) {
  for (const std::string& path : spec.linux.masked_paths) {
    BERTH_RETURN_IF_ERROR(Annotate(MaskPath(sys, path), absl::StrCat("mask ", path)));
  }
  for (const std::string& path : spec.linux.readonly_paths) {
    BERTH_RETURN_IF_ERROR(Annotate(MakeReadonly(sys, path), absl::StrCat("make read-only ", path)));
  }
  if (spec.root.readonly) {
    BERTH_RETURN_IF_ERROR(Annotate(sys.Mount("", "/", "", MS_BIND | MS_REMOUNT | MS_RDONLY, ""),
                                   "remount root read-only"));
  }
  return absl::OkStatus();
}

}  // namespace berth::runtime
