// The user a container runs as: uid, gid and supplementary groups, from the CRI security context
// and the image's user, /etc/passwd and /etc/group.
//
// Every id is checked to lie in [0, 2^31): larger ids (and negative ones sent as int64) would
// wrap around to small ones, such as 0, in the kernel's uid_t. A user string that looks like a
// number is always taken as a uid, never looked up as a name. So an image cannot declare a user
// "-1" or "4294967296" that the kubelet's non-root check reads as a number while /etc/passwd
// maps it to root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/spec.h"
#include "runtime/v1/api.pb.h"

namespace berth::pod {

// The largest uid or gid Berth accepts: 2^31 - 1.
inline constexpr int64_t kMaxId = 2147483647;

// Returns `value` as an id, or InvalidArgument naming `field` when it is outside [0, kMaxId].
absl::StatusOr<uint32_t> CheckId(int64_t value, const std::string& field);

// Resolves an image or CRI user spec ("1000", "1000:1000", "app", "app:staff") to numeric ids,
// reading /etc/passwd and /etc/group from the image layers (top layer first) for names. A
// numeric uid takes its primary group from the image's passwd entry when there is one.
// An unknown name is NotFound naming it; an id out of range is InvalidArgument.
// additional_gids stays empty: see ContainerUser.
absl::StatusOr<runtime::User> ResolveUser(const std::string& user,
                                          const std::vector<std::string>& layer_dirs);

// Returns the process user of a container: run_as_user, else run_as_username, else the image's
// user; run_as_group replaces the gid. The supplementary groups are the primary gid, then, with
// policy Merge, the groups of the image's /etc/group that list the user's name, then the
// security context's supplemental_groups (the kubelet copies the pod's there), without
// duplicates. With policy Strict the image's groups are left out.
absl::StatusOr<runtime::User> ContainerUser(
    const ::runtime::v1::LinuxContainerSecurityContext& security, const std::string& image_user,
    const std::vector<std::string>& layer_dirs);

// Checks the ids of a pod's security context (run_as_user, run_as_group, supplemental_groups).
absl::Status CheckPodUserIds(const ::runtime::v1::LinuxSandboxSecurityContext& security);

}  // namespace berth::pod
