// Extraction of one layer tar into a snapshot directory, converting OCI whiteouts to overlayfs
// whiteouts on the way.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace berth::image {

// Extracts the layer blob at `blob_path` (a tar, plain or compressed with gzip or zstd) into
// `fs_dir`, an empty directory given as an absolute path without symlinks.
//
// Ownership, modes (setuid and setgid included), symlinks, hardlinks, device nodes, xattrs and
// mtimes are kept. Entries with absolute paths or ".." are rejected, and so is any entry whose
// path runs through a symlink that an earlier entry created: nothing is written outside
// `fs_dir`. "<dir>/.wh.<name>" becomes a 0:0 character device <dir>/<name>,
// "<dir>/.wh..wh..opq" the xattr trusted.overlay.opaque=y on <dir> (this needs root), and xattrs
// named trusted.overlay.* in the layer itself are dropped.
//
// The uncompressed stream must have the digest `diff_id`; otherwise DataLoss naming `what`, the
// expected and the actual digest. On any error `fs_dir` is left partly filled: callers extract
// into a temporary directory and delete it (SnapshotStore::Create does).
absl::Status UnpackLayer(const std::string& blob_path, const std::string& fs_dir,
                         const std::string& diff_id, std::string_view what);

}  // namespace berth::image
