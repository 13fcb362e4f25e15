// The part of a container launch that needs the host's credentials when the container joins a
// user namespace. Once the launch helper has joined that namespace it can no longer walk host
// directories owned by the host's root, nor mount the image layers with their owners shifted,
// so it does this first:
//   - It takes a mount namespace of its own, which the container's inherits.
//   - It mounts the root file system there. That is an overlay whose lower layers are idmapped
//     mounts, so files owned by 0 on disk belong to the namespace's root. Where the kernel or
//     the file system cannot idmap, it is a plain overlay whose files are chowned by the mapping
//     (the chown mode, slower because every file gets a metadata copy in the upper directory).
//   - It leaves the working directory on the root, which clone carries over into the
//     container's mount namespace.
//   - It makes every bind-mount source a detached mount tree (open_tree), idmapped when the
//     mount has the "idmap" option, which the container process moves into place. A plain
//     descriptor would not do, because it points into the helper's mount namespace, where the
//     container cannot mount.
// Internal to the launcher.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/fd.h"
#include "runtime/spec.h"

namespace berth::runtime {

// The way the image's file owners are shifted into the user namespace.
enum class OwnershipMode {
  kIdmap,  // idmapped lower layers; nothing on disk changes
  kChown,  // files chowned through the overlay
};

struct UsernsRootfs {
  std::vector<UniqueFd> descriptors;  // the open trees behind the rewritten paths
  std::map<size_t, int> bind_trees;  // spec.mounts index -> detached tree of its source
  OwnershipMode mode = OwnershipMode::kIdmap;
  std::string note;  // why the ownership mode was used instead of idmapped layers; may be empty
};

// Runs in the launch helper, single-threaded and still with the host's credentials. `spec` is
// the helper's own copy: its bind sources are rewritten to /proc/self/fd/N of their trees.
// `rootfs_mount`, when present, is mounted here (and must not be mounted again by the container
// process); `userns_fd` is the namespace the container joins. With `allow_idmap` false the
// ownership mode is used even where idmapped mounts work.
absl::StatusOr<UsernsRootfs> PrepareUsernsRootfs(Spec& spec,
                                                 const std::optional<Mount>& rootfs_mount,
                                                 int userns_fd, bool allow_idmap);

// Joins the user namespace and becomes its root (uid and gid 0, no supplementary groups). The
// caller's other namespaces must already be joined: after this the host's are out of reach.
absl::Status EnterUserns(int userns_fd);

// Chowns every file below the directory `dir_fd` (and the directory itself) from its id to the
// host id the mappings give it, not crossing into other mounts. Ids the mappings lack are left
// alone. Set-user-id and set-group-id bits and file capabilities, which chown clears, are put
// back. Errors name the path.
absl::Status ShiftOwnership(int dir_fd, const std::string& display,
                            const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids);

}  // namespace berth::runtime
