// Layer tars written entry by entry with every field under the test's control: file types
// LayerBuilder does not offer (devices, fifos, sparse files, hardlinks that carry data), exact
// owners, modes and mtimes, and the GNU format's long-name records besides PAX. Used by the
// tests of exact and of safe unpacking.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {

struct TarEntry {
  // 'f' regular file, 'd' directory, 'l' symlink, 'h' hardlink, 'c' character device,
  // 'b' block device, 'p' fifo.
  char type = 'f';
  std::string path;
  std::string data;  // bytes of a file, or of a hardlink that carries a body (PAX allows it)
  std::string link;  // target of a symlink or hardlink
  uint32_t mode = 0644;  // permission bits, setuid/setgid/sticky included
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t mtime = 1700000000;
  long mtime_nsec = 0;
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  std::map<std::string, std::string> xattrs;
  // Data regions (offset, length) of a sparse file; `data` then contains the whole logical
  // content, zeros in the holes.
  std::vector<std::pair<int64_t, int64_t>> sparse;
};

enum class TarFormat { kPax, kGnu };

// Writes `entries` in order as one tar.
absl::StatusOr<std::string> WriteTar(const std::vector<TarEntry>& entries, TarFormat format);

// A layer made of `tar` as it is (uncompressed, media type of a plain OCI layer).
TestLayer PlainLayer(std::string tar);

// A one-layer image of `entries`, with the default test config.
absl::StatusOr<TestImage> CraftedImage(const std::vector<TarEntry>& entries,
                                       TarFormat format = TarFormat::kPax);

}  // namespace berth::e2e
