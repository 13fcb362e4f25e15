// User namespaces for pods that ask for one, pinned to a file like their network namespace.
// The pod's network namespace is created inside the user namespace, so the pod's root owns it:
// the pod may then mount sysfs and configure its own interfaces, and still nothing on the host.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace berth::network {

// Creates a user namespace with `uid_map` and `gid_map` (uid_map(5) lines, "inside outside
// count"), pins it at `userns_path`, and, unless `netns_path` is empty, creates a network
// namespace owned by it with loopback up and pins that at `netns_path`. Both files are created,
// so their parents must exist, and an existing file is AlreadyExists. On failure nothing is
// left.
// Safe to call from a multithreaded process: the namespaces are made by a forked child.
absl::Status CreatePinnedUserns(const std::string& userns_path, const std::string& netns_path,
                                const std::string& uid_map, const std::string& gid_map);

// Unpins the user namespace at `path` and removes the file; a missing path is success.
absl::Status RemovePinnedUserns(const std::string& path);

}  // namespace berth::network
