#include "image/archive_import_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "image/archive_import.h"
#include "image/digest.h"
#include "image/text.h"

namespace berth::image::archive {
namespace {

constexpr size_t kReadBlockSize = 1 << 16;
constexpr size_t kHeadBytes = 4;
// Links are followed at most this many times in one lookup, so a loop ends.
constexpr int kMaxLinkHops = 16;

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadDeleter>;

absl::Status ArchiveError(struct archive* a, const std::string& archive_path,
                          std::string_view step) {
  const char* message = archive_error_string(a);
  std::string text = absl::StrCat("archive ", archive_path, ": ", std::string(step), ": ",
                                  message ? message : "unknown libarchive error");
  int err = archive_errno(a);
  // Errors of the format itself (not a tar, truncated) come with EINVAL, libarchive's own
  // ARCHIVE_ERRNO_MISC (-1) or ARCHIVE_ERRNO_FILE_FORMAT (EILSEQ): a bad archive.
  if (err > 0 && err != EINVAL && err != EILSEQ) return absl::Status(ErrnoToCode(err), text);
  return absl::InvalidArgumentError(text);
}

// Opens `archive_path` as a tar, plain or compressed with any filter libarchive supports.
absl::StatusOr<ReadArchive> OpenArchive(const std::string& archive_path) {
  ReadArchive a(archive_read_new());
  if (!a) return absl::ResourceExhaustedError("archive_read_new: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), kReadBlockSize) != ARCHIVE_OK) {
    return ArchiveError(a.get(), archive_path, "open");
  }
  return a;
}

// Calls `next(archive, entry, path, index)` for each entry with its cleaned path and its
// position in the archive.
template <typename Next>
absl::Status ForEachEntry(const std::string& archive_path, const std::function<bool()>& cancelled,
                          Next&& next) {
  BERTH_ASSIGN_OR_RETURN(ReadArchive a, OpenArchive(archive_path));
  size_t count = 0;
  while (true) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) return absl::OkStatus();
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ArchiveError(a.get(), archive_path, "read");
    if (cancelled && cancelled()) return ImportCancelled();
    if (++count > kMaxArchiveEntries) {
      return absl::FailedPreconditionError(absl::StrCat(
          "archive ", archive_path, " has more than ", kMaxArchiveEntries, " entries"));
    }
    const char* name = archive_entry_pathname(entry);
    BERTH_ASSIGN_OR_RETURN(std::string path, CleanArchivePath(name ? name : ""));
    BERTH_RETURN_IF_ERROR(next(a.get(), entry, path, count - 1));
  }
}

// Reads the data of the current entry in blocks and hands each to `consume`.
template <typename Consume>
absl::Status ReadData(struct archive* a, const std::string& archive_path, const std::string& path,
                      Consume&& consume) {
  std::vector<char> buffer(kReadBlockSize);
  while (true) {
    la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
    if (n < 0) return ArchiveError(a, archive_path, absl::StrCat("read ", path));
    if (n == 0) return absl::OkStatus();
    BERTH_RETURN_IF_ERROR(consume(std::string_view(buffer.data(), static_cast<size_t>(n))));
  }
}

bool LooksLikeJson(std::string_view head) {
  return !head.empty() && (head.front() == '{' || head.front() == '[');
}

}  // namespace

absl::Status ImportCancelled() { return absl::CancelledError("image import cancelled"); }

absl::StatusOr<std::string> CleanArchivePath(std::string_view name) {
  if (name.starts_with("/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive entry \"", std::string(name), "\" has an absolute path"));
  }
  std::vector<std::string_view> parts;
  for (std::string_view part : Split(name, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("archive entry \"", std::string(name), "\" contains \"..\""));
    }
    parts.push_back(part);
  }
  return Join(parts, "/");
}

absl::StatusOr<std::string> ResolveLinkTarget(std::string_view link_path,
                                              std::string_view target) {
  auto escapes = [&] {
    return absl::InvalidArgumentError(absl::StrCat("archive link \"", std::string(link_path),
                                                   "\" points outside the archive: \"",
                                                   std::string(target), "\""));
  };
  if (target.starts_with("/")) return escapes();
  std::vector<std::string_view> parts = Split(link_path, '/', /*skip_empty=*/true);
  if (!parts.empty()) parts.pop_back();  // the link's own name
  for (std::string_view part : Split(target, '/', /*skip_empty=*/true)) {
    if (part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return escapes();
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return Join(parts, "/");
}

absl::StatusOr<Catalogue> Catalogue::Read(const std::string& archive_path,
                                          int64_t max_document_bytes,
                                          const std::function<bool()>& cancelled) {
  Catalogue catalogue;
  catalogue.max_document_bytes_ = max_document_bytes;
  auto add = [&](struct archive* a, struct archive_entry* entry, const std::string& path,
                 size_t index) -> absl::Status {
    mode_t type = archive_entry_filetype(entry);
    if (const char* hardlink = archive_entry_hardlink(entry); hardlink != nullptr) {
      BERTH_ASSIGN_OR_RETURN(std::string target, CleanArchivePath(hardlink));
      catalogue.files_.erase(path);
      catalogue.links_[path] = std::move(target);
      return absl::OkStatus();
    }
    if (type == AE_IFDIR) return absl::OkStatus();
    if (type == AE_IFLNK) {
      const char* symlink = archive_entry_symlink(entry);
      BERTH_ASSIGN_OR_RETURN(std::string target, ResolveLinkTarget(path, symlink ? symlink : ""));
      catalogue.files_.erase(path);
      catalogue.links_[path] = std::move(target);
      return absl::OkStatus();
    }
    if (type != AE_IFREG) {
      return absl::InvalidArgumentError(absl::StrCat("archive ", archive_path, ": entry \"", path,
                                                     "\" is neither a file, a folder nor a link"));
    }

    ArchiveFile file;
    file.path = path;
    file.entry_index = index;
    Sha256 hash;
    bool keep = archive_entry_size(entry) <= max_document_bytes;
    BERTH_RETURN_IF_ERROR(ReadData(a, archive_path, path, [&](std::string_view block) {
      hash.Update(block);
      if (file.size == 0) {
        file.head = std::string(block.substr(0, kHeadBytes));
        keep = keep && LooksLikeJson(file.head);
      }
      file.size += static_cast<int64_t>(block.size());
      if (keep && file.size <= max_document_bytes) file.data.append(block);
      return absl::OkStatus();
    }));
    file.digest = hash.Finish();
    file.kept = keep && file.size <= max_document_bytes;
    if (!file.kept) file.data.clear();
    catalogue.links_.erase(path);
    catalogue.files_[path] = std::move(file);
    return absl::OkStatus();
  };
  BERTH_RETURN_IF_ERROR(ForEachEntry(archive_path, cancelled, add));
  return catalogue;
}

absl::StatusOr<const ArchiveFile*> Catalogue::Find(std::string_view path,
                                                   std::string_view what) const {
  BERTH_ASSIGN_OR_RETURN(std::string current, CleanArchivePath(path));
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    auto file = files_.find(current);
    if (file != files_.end()) return &file->second;
    auto link = links_.find(current);
    if (link == links_.end()) break;
    current = link->second;
  }
  return absl::NotFoundError(absl::StrCat(std::string(what), ": the archive has no file \"",
                                          std::string(path), "\""));
}

absl::StatusOr<std::string_view> Catalogue::Document(std::string_view path,
                                                     std::string_view what) const {
  BERTH_ASSIGN_OR_RETURN(const ArchiveFile* file, Find(path, what));
  if (!file->kept) {
    if (file->size > max_document_bytes_) {
      return absl::FailedPreconditionError(absl::StrCat(
          std::string(what), ": \"", file->path, "\" has ", file->size,
          " bytes, more than the limit of ", max_document_bytes_));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": \"", file->path, "\" is not a JSON document"));
  }
  return std::string_view(file->data);
}

absl::Status CopyToContent(const std::string& archive_path, const Catalogue& catalogue,
                           const std::set<std::string>& paths, ContentStore& content,
                           const std::function<bool()>& cancelled) {
  // Kept files need no second read.
  std::set<std::string> from_archive;
  for (const std::string& path : paths) {
    BERTH_ASSIGN_OR_RETURN(const ArchiveFile* file, catalogue.Find(path, "import"));
    if (content.Has(file->digest)) continue;
    std::string what = absl::StrCat("archive file ", file->path);
    if (file->kept) {
      BERTH_RETURN_IF_ERROR(content.Put(file->digest, file->data, what));
    } else {
      from_archive.insert(file->path);
    }
  }
  if (from_archive.empty()) return absl::OkStatus();

  auto copy = [&](struct archive* a, struct archive_entry* entry, const std::string& path,
                  size_t index) -> absl::Status {
    if (!from_archive.contains(path) || archive_entry_hardlink(entry) != nullptr ||
        archive_entry_filetype(entry) != AE_IFREG) {
      return absl::OkStatus();
    }
    BERTH_ASSIGN_OR_RETURN(const ArchiveFile* file, catalogue.Find(path, "import"));
    // A later entry of the same name replaced this one in the catalogue; copy the last only.
    if (index != file->entry_index) return absl::OkStatus();
    BERTH_ASSIGN_OR_RETURN(auto writer, content.NewWriter(file->digest, file->size,
                                                          absl::StrCat("archive file ", path)));
    BERTH_RETURN_IF_ERROR(ReadData(a, archive_path, path, [&](std::string_view block) {
      if (cancelled && cancelled()) return ImportCancelled();
      return writer->Write(block);
    }));
    BERTH_RETURN_IF_ERROR(writer->Commit());
    from_archive.erase(path);
    return absl::OkStatus();
  };
  BERTH_RETURN_IF_ERROR(ForEachEntry(archive_path, cancelled, copy));
  if (!from_archive.empty()) {
    return absl::DataLossError(absl::StrCat("archive ", archive_path, " changed while it was read: ",
                                            *from_archive.begin(), " is gone"));
  }
  return absl::OkStatus();
}

}  // namespace berth::image::archive
