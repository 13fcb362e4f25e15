// File and directory helpers that report failures as absl::Status with the path named.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

// Writes all of `data` to `fd`, retrying short writes and EINTR. `path` names the file in errors.
absl::Status WriteAll(int fd, std::string_view data, const std::string& path);

// Reads a whole file. A missing file is NotFound.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` so that a crash at any instant leaves either the old or the new
// content: write to a temporary file beside it, fsync, rename over `path`, fsync the directory.
absl::Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// Writes `data` to a temporary file beside `path` and renames it over `path`, so readers see the
// old or the new content, never a part. Unlike WriteFileAtomic it does not fsync, so after a
// power loss the file may be empty: use it for files Berth can write again.
absl::Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode = 0644);

// Writes `data` to `path` directly (truncating), without the crash guarantee.
absl::Status WriteFile(const std::string& path, std::string_view data, mode_t mode = 0644);

// Creates `path` and any missing parents with `mode`. An existing directory is success.
absl::Status MakeDirs(const std::string& path, mode_t mode = 0755);

// Removes `path` and everything below it without following symlinks and without crossing into
// other mounts (a mount point below `path` makes this fail with EBUSY). A missing path is success.
absl::Status RemoveAll(const std::string& path);

// Returns true when `path` exists (lstat succeeds).
bool PathExists(const std::string& path);

// Joins two path parts with exactly one '/' between them.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace berth
