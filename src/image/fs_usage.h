// Disk use of a directory tree, counted without following symlinks or crossing mounts.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace berth::image {

struct TreeUsage {
  uint64_t bytes = 0;   // allocated blocks * 512; each inode counted once, however many links
  uint64_t inodes = 0;  // distinct inodes, `dir` included
};

// Walks `dir`. Entries that vanish during the walk are skipped; a missing `dir` is NotFound.
absl::StatusOr<TreeUsage> MeasureTree(const std::string& dir);

}  // namespace berth::image
