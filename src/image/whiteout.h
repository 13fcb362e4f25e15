// Classification of layer tar entries by path: a file to extract, an OCI whiteout, an
// opaque-directory marker, or metadata to skip. Pure functions, no file system access.
//
// OCI layers mark deletions with names: "<dir>/.wh.<name>" hides <name> of the layers below, and
// "<dir>/.wh..wh..opq" hides everything below <dir>. Overlayfs expresses the same with a 0:0
// character device named <name>, and with the xattr trusted.overlay.opaque=y on <dir>.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace berth::image {

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
inline constexpr const char* kOverlayOpaqueXattr = "trusted.overlay.opaque";

enum class EntryKind {
  kExtract,   // a file, directory, link or device to write as it is
  kWhiteout,  // make `path` an overlay whiteout (0:0 character device)
  kOpaque,    // set trusted.overlay.opaque=y on directory `path` ("" is the layer root)
  kSkip,      // other ".wh..wh." names and entries below them: aufs metadata, ignored
};

struct LayerEntry {
  EntryKind kind = EntryKind::kExtract;
  // Cleaned path relative to the layer root, without "./" or trailing "/"; "" is the root.
  // For kWhiteout it is the hidden path, for kOpaque the directory.
  std::string path;
};

// Cleans a tar path: drops "./" and empty components. Absolute paths and ".." components are
// InvalidArgument naming the path, so nothing is ever written outside the layer root.
absl::StatusOr<std::string> CleanEntryPath(std::string_view tar_path);

// Cleans `tar_path` and classifies it as above.
absl::StatusOr<LayerEntry> ClassifyEntry(std::string_view tar_path);

}  // namespace berth::image
