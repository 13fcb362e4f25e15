#include "runtime/linux/userns_rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/mount_options.h"

namespace berth::runtime {
namespace {

constexpr char kCapabilityXattr[] = "security.capability";
constexpr int kMaxDepth = 256;

// The overlay's data split into its lower layers and everything else.
struct OverlayParts {
  std::vector<std::string> lowers;
  std::string upper;
  std::vector<std::string> rest;  // upperdir, workdir and other options, in order
};

absl::StatusOr<OverlayParts> SplitOverlayData(const std::string& data) {
  OverlayParts parts;
  for (absl::string_view item : absl::StrSplit(data, ',', absl::SkipEmpty())) {
    if (absl::StartsWith(item, "lowerdir=")) {
      for (absl::string_view dir : absl::StrSplit(item.substr(9), ':', absl::SkipEmpty())) {
        parts.lowers.emplace_back(dir);
      }
      continue;
    }
    if (absl::StartsWith(item, "upperdir=")) parts.upper = std::string(item.substr(9));
    parts.rest.emplace_back(item);
  }
  if (parts.lowers.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("overlay options are missing lowerdir: \"", data, "\""));
  }
  return parts;
}

std::string JoinOverlayData(const std::vector<std::string>& lowers,
                            const std::vector<std::string>& rest) {
  std::vector<std::string> items = {absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"))};
  items.insert(items.end(), rest.begin(), rest.end());
  return absl::StrJoin(items, ",");
}

absl::Status MountOverlay(const std::string& root, unsigned long flags, const std::string& data) {
  BERTH_ASSIGN_OR_RETURN(OverlayData fit,
                         FitOverlayData(data, static_cast<size_t>(::sysconf(_SC_PAGESIZE))));
  if (!fit.chdir.empty() && ::chdir(fit.chdir.c_str()) != 0) {
    return ErrnoError(errno, "chdir", fit.chdir);
  }
  if (::mount("overlay", root.c_str(), "overlay", flags, fit.data.c_str()) != 0) {
    return ErrnoError(errno, "mount overlay", root);
  }
  return absl::OkStatus();
}

// Idmaps the detached mount `tree` (of `source`) to the user namespace `userns_fd`, with its
// submounts when `recursive`.
absl::Status IdmapTree(int tree, int userns_fd, bool recursive, const std::string& source) {
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (::mount_setattr(tree, "", flags, &attr, sizeof(attr)) != 0) {
    return ErrnoError(errno, "idmap (mount_setattr)", source);
  }
  return absl::OkStatus();
}

// Attaches an idmapped copy of each lower layer below a private tmpfs on `root`, and returns
// their paths. The overlay mounted on top later hides the tmpfs but keeps its layers.
absl::StatusOr<std::vector<std::string>> StageIdmappedLayers(const std::string& root,
                                                             const std::vector<std::string>& lowers,
                                                             int userns_fd) {
  if (::mount("tmpfs", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0) {
    return ErrnoError(errno, "mount staging tmpfs", root);
  }
  std::vector<std::string> staged;
  for (size_t i = 0; i < lowers.size(); ++i) {
    UniqueFd tree(::open_tree(AT_FDCWD, lowers[i].c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree) return ErrnoError(errno, "open_tree", lowers[i]);
    BERTH_RETURN_IF_ERROR(IdmapTree(tree.get(), userns_fd, /*recursive=*/false, lowers[i]));
    std::string dir = absl::StrCat(root, "/", i);
    if (::mkdir(dir.c_str(), 0700) != 0) return ErrnoError(errno, "mkdir", dir);
    if (::move_mount(tree.get(), "", AT_FDCWD, dir.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      return ErrnoError(errno, "move_mount", dir);
    }
    staged.push_back(std::move(dir));
  }
  return staged;
}

// Mounts the overlay on `root` with idmapped layers, or returns why it could not.
absl::Status MountIdmappedOverlay(const std::string& root, const ParsedMountOptions& parsed,
                                  const OverlayParts& parts, const Spec& spec, int userns_fd) {
  absl::StatusOr<std::vector<std::string>> staged =
      StageIdmappedLayers(root, parts.lowers, userns_fd);
  if (staged.ok()) {
    // The upper directory is not idmapped: its root must belong to the namespace's root.
    uid_t uid = *MapToHost(spec.linux.uid_mappings, 0);
    gid_t gid = *MapToHost(spec.linux.gid_mappings, 0);
    if (!parts.upper.empty() && ::chown(parts.upper.c_str(), uid, gid) != 0) {
      staged = ErrnoError(errno, "chown", parts.upper);
    }
  }
  absl::Status status = staged.status();
  if (status.ok()) status = MountOverlay(root, parsed.flags, JoinOverlayData(*staged, parts.rest));
  if (!status.ok()) {
    // Whatever was staged goes with the tmpfs. It lives in the helper's own mount namespace,
    // whose mounts do not propagate to the host.
    ::umount2(root.c_str(), MNT_DETACH);
  }
  return status;
}

// Mounts the overlay unchanged (with metadata-only copy-up where the kernel has it) and chowns
// its files into the namespace's range.
absl::Status MountChownedOverlay(const std::string& root, const ParsedMountOptions& parsed,
                                 const OverlayParts& parts, const Spec& spec) {
  std::string data = JoinOverlayData(parts.lowers, parts.rest);
  absl::Status mounted = MountOverlay(root, parsed.flags, absl::StrCat(data, ",metacopy=on"));
  if (!mounted.ok()) mounted = MountOverlay(root, parsed.flags, data);
  BERTH_RETURN_IF_ERROR(mounted);
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ErrnoError(errno, "open", root);
  return ShiftOwnership(dir.get(), root, spec.linux.uid_mappings, spec.linux.gid_mappings);
}

struct Shift {
  const std::vector<IdMapping>& uids;
  const std::vector<IdMapping>& gids;
  // Files with more than one link, by device and inode, and the owner they were given. A second
  // link that still shows that owner was already shifted. One that does not is a separate copy
  // (overlayfs without its inode index breaks links when it copies a file up), so it is shifted.
  std::map<std::pair<dev_t, ino_t>, std::pair<uid_t, gid_t>> linked;
};

absl::Status ShiftEntry(int dir_fd, const char* name, const struct stat& st, Shift& shift,
                        const std::string& display) {
  std::pair<uid_t, gid_t>* recorded = nullptr;
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    auto [link, first] = shift.linked.try_emplace({st.st_dev, st.st_ino});
    if (!first && link->second == std::pair<uid_t, gid_t>{st.st_uid, st.st_gid}) {
      return absl::OkStatus();
    }
    recorded = &link->second;
  }
  uid_t uid = MapToHost(shift.uids, st.st_uid).value_or(st.st_uid);
  gid_t gid = MapToHost(shift.gids, st.st_gid).value_or(st.st_gid);
  if (recorded != nullptr) *recorded = {uid, gid};
  if (uid == st.st_uid && gid == st.st_gid) return absl::OkStatus();
  if (!S_ISREG(st.st_mode)) {
    if (::fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError(errno, "chown", display);
    }
    return absl::OkStatus();
  }
  // chown on a regular file clears set-id bits and file capabilities: keep them.
  UniqueFd file(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!file) return ErrnoError(errno, "open", display);
  char caps[64];
  ssize_t caps_size = ::fgetxattr(file.get(), kCapabilityXattr, caps, sizeof(caps));
  if (::fchown(file.get(), uid, gid) != 0) return ErrnoError(errno, "chown", display);
  if ((st.st_mode & (S_ISUID | S_ISGID)) != 0 && ::fchmod(file.get(), st.st_mode & 07777) != 0) {
    return ErrnoError(errno, "chmod", display);
  }
  if (caps_size > 0 &&
      ::fsetxattr(file.get(), kCapabilityXattr, caps, static_cast<size_t>(caps_size), 0) != 0) {
    return ErrnoError(errno, "restore file capabilities", display);
  }
  return absl::OkStatus();
}

absl::Status ShiftTree(int dir_fd, const std::string& display, Shift& shift, dev_t dev, int depth) {
  if (depth > kMaxDepth) {
    return absl::ResourceExhaustedError(
        absl::StrCat("directories nested more than ", kMaxDepth, " deep at ", display));
  }
  int listing_fd = ::dup(dir_fd);
  if (listing_fd < 0) return ErrnoError(errno, "dup", display);
  DIR* listing = ::fdopendir(listing_fd);
  if (listing == nullptr) {
    ::close(listing_fd);
    return ErrnoError(errno, "opendir", display);
  }
  absl::Status status;
  while (status.ok()) {
    errno = 0;
    struct dirent* entry = ::readdir(listing);
    if (entry == nullptr) {
      if (errno != 0) status = ErrnoError(errno, "readdir", display);
      break;
    }
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = JoinPath(display, name);
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      status = ErrnoError(errno, "stat", path);
      break;
    }
    // Directories of another mount are left alone. The overlay reports one device for its own.
    if (S_ISDIR(st.st_mode) && st.st_dev != dev) continue;
    status = ShiftEntry(dir_fd, name.c_str(), st, shift, path);
    if (!status.ok() || !S_ISDIR(st.st_mode)) continue;
    UniqueFd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child) {
      status = ErrnoError(errno, "open", path);
      break;
    }
    status = ShiftTree(child.get(), path, shift, dev, depth + 1);
  }
  ::closedir(listing);
  return status;
}

// Makes a detached copy of the mount at `mount.source`, with its submounts for "rbind". With
// the "idmap" option the copy is idmapped to the user namespace `userns_fd`.
absl::StatusOr<UniqueFd> DetachedTree(const Mount& mount, const ParsedMountOptions& parsed,
                                      int userns_fd) {
  bool recursive = (parsed.flags & MS_REC) != 0;
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  UniqueFd tree(::open_tree(AT_FDCWD, mount.source.c_str(), flags));
  if (!tree) return ErrnoError(errno, "open_tree", mount.source);
  bool idmap =
      std::find(mount.options.begin(), mount.options.end(), "idmap") != mount.options.end();
  if (idmap) BERTH_RETURN_IF_ERROR(IdmapTree(tree.get(), userns_fd, recursive, mount.source));
  return tree;
}

}  // namespace

absl::Status ShiftOwnership(int dir_fd, const std::string& display,
                            const std::vector<IdMapping>& uids,
                            const std::vector<IdMapping>& gids) {
  struct stat st;
  if (::fstat(dir_fd, &st) != 0) return ErrnoError(errno, "stat", display);
  Shift shift{uids, gids, {}};
  uid_t uid = MapToHost(uids, st.st_uid).value_or(st.st_uid);
  gid_t gid = MapToHost(gids, st.st_gid).value_or(st.st_gid);
  if (::fchown(dir_fd, uid, gid) != 0) return ErrnoError(errno, "chown", display);
  return ShiftTree(dir_fd, display, shift, st.st_dev, 0);
}

absl::StatusOr<UsernsRootfs> PrepareUsernsRootfs(Spec& spec,
                                                 const std::optional<Mount>& rootfs_mount,
                                                 int userns_fd, bool allow_idmap) {
  UsernsRootfs out;
  if (::unshare(CLONE_NEWNS) != 0) return ErrnoError(errno, "unshare", "CLONE_NEWNS");
  // What is mounted here must not reach the host. The container's namespace copies it.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    return ErrnoError(errno, "make mounts slave", "/");
  }
  const std::string root = spec.root.path;
  if (rootfs_mount) {
    ParsedMountOptions parsed = ParseMountOptions(rootfs_mount->options);
    BERTH_ASSIGN_OR_RETURN(OverlayParts parts, SplitOverlayData(parsed.data));
    absl::Status idmapped = absl::FailedPreconditionError("idmapped layers are turned off");
    if (allow_idmap) idmapped = MountIdmappedOverlay(root, parsed, parts, spec, userns_fd);
    if (!idmapped.ok()) {
      out.mode = OwnershipMode::kChown;
      out.note = std::string(idmapped.message());
      BERTH_RETURN_IF_ERROR(Annotate(MountChownedOverlay(root, parsed, parts, spec),
                                     "mount rootfs with chowned files"));
    }
  } else if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return ErrnoError(errno, "bind rootfs onto itself", root);
  }

  if (::chdir(root.c_str()) != 0) return ErrnoError(errno, "chdir", root);
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    Mount& mount = spec.mounts[i];
    ParsedMountOptions parsed = ParseMountOptions(mount.options);
    // The same test as the container's own mount step uses for a bind mount.
    if (!parsed.bind && mount.type != "bind") continue;
    absl::StatusOr<UniqueFd> tree = DetachedTree(mount, parsed, userns_fd);
    if (!tree.ok()) {
      return Annotate(tree.status(), absl::StrCat("bind source of ", mount.destination));
    }
    out.bind_trees[i] = tree->get();
    mount.source = absl::StrCat("/proc/self/fd/", tree->get());
    out.descriptors.push_back(*std::move(tree));
  }
  return out;
}

absl::Status EnterUserns(int userns_fd) {
  if (::setns(userns_fd, CLONE_NEWUSER) != 0) return ErrnoError(errno, "setns (user)");
  if (::setgroups(0, nullptr) != 0) return ErrnoError(errno, "setgroups", "[]");
  if (::setresgid(0, 0, 0) != 0) return ErrnoError(errno, "setresgid", "0");
  if (::setresuid(0, 0, 0) != 0) return ErrnoError(errno, "setresuid", "0");
  return absl::OkStatus();
}

}  // namespace berth::runtime
