// The tar side of an archive import (see archive_import.h): one read that catalogues the
// archive's files (digest, size, first bytes, and the small JSON documents themselves), and a
// second read that copies chosen files into the content store. Internal to the image module.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "image/content_store.h"

namespace berth::image::archive {

// One regular file of the archive.
struct ArchiveFile {
  std::string path;    // cleaned, relative to the archive root
  size_t entry_index = 0;  // position among the archive's entries
  std::string digest;  // "sha256:<hex>" of its bytes
  int64_t size = 0;
  std::string head;    // its first bytes (up to 4), to tell tar, gzip and zstd apart
  bool kept = false;   // whether `data` contains the whole content
  std::string data;
};

// Returned for a callback that asked to stop.
absl::Status ImportCancelled();

class Catalogue {
 public:
  // Reads every entry of the archive at `archive_path` (plain or compressed tar). Regular files
  // are hashed; those that look like JSON and are at most `max_document_bytes` long are kept in
  // memory. Symlinks and hardlinks are recorded so lookups can follow them; directories are
  // skipped; devices, fifos and paths that are absolute or contain ".." are InvalidArgument.
  static absl::StatusOr<Catalogue> Read(const std::string& archive_path,
                                        int64_t max_document_bytes,
                                        const std::function<bool()>& cancelled);

  // The file at `path`, following links inside the archive. NotFound naming `what` when absent.
  absl::StatusOr<const ArchiveFile*> Find(std::string_view path, std::string_view what) const;

  // True when `path` names a file (following links).
  bool Has(std::string_view path) const { return Find(path, "").ok(); }

  // The whole content of the JSON document at `path`. FailedPrecondition naming `what` when it
  // is larger than the limit given to Read, or is not JSON.
  absl::StatusOr<std::string_view> Document(std::string_view path, std::string_view what) const;

  size_t file_count() const { return files_.size(); }

 private:
  std::map<std::string, ArchiveFile, std::less<>> files_;
  std::map<std::string, std::string, std::less<>> links_;  // link path -> target path
  int64_t max_document_bytes_ = 0;
};

// Reads the archive again and stores each file of `paths` (resolved paths of catalogued files)
// in `content` under the digest the catalogue found, verified once more while it is written.
// Kept files come from memory; files already in the content store are skipped.
absl::Status CopyToContent(const std::string& archive_path, const Catalogue& catalogue,
                           const std::set<std::string>& paths, ContentStore& content,
                           const std::function<bool()>& cancelled);

// Cleans an entry name: drops "./" and empty components. Absolute names and ".." components
// are InvalidArgument naming the entry.
absl::StatusOr<std::string> CleanArchivePath(std::string_view name);

// The archive path a symlink at `link_path` with target `target` points to, ".." resolved
// against the link's folder. InvalidArgument when the target is absolute or leaves the archive.
absl::StatusOr<std::string> ResolveLinkTarget(std::string_view link_path, std::string_view target);

}  // namespace berth::image::archive
