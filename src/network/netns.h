// Network namespaces pinned to a file, so a pod's namespace outlives its processes and can be
// joined by path (setns) and handed to CNI plugins.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace berth::network {

// Creates a new network namespace, brings its loopback interface up, and pins it by bind-mounting
// its nsfs file onto `path`. The file is created, so its parent must exist. On failure nothing is
// left at `path`. An existing `path` is AlreadyExists.
absl::Status CreatePinnedNetns(const std::string& path);

// Unpins the namespace at `path` (lazy unmount) and removes the file. The namespace itself goes
// away once no process and no other mount refers to it. A missing path is success, so removal is
// idempotent.
absl::Status RemovePinnedNetns(const std::string& path);

// Sets the loopback interface of the calling thread's network namespace up.
absl::Status BringLoopbackUp();

// Returns true when `path` is a pinned network namespace (an nsfs mount of type net).
bool IsPinnedNetns(const std::string& path);

}  // namespace berth::network
