#include "e2e/support/crafted_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/media_types.h"

namespace berth::e2e {
namespace {

struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t Append(struct archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

absl::Status Failed(struct archive* a, const std::string& step) {
  const char* message = archive_error_string(a);
  return absl::InternalError(absl::StrCat(step, ": ", message ? message : "libarchive error"));
}

unsigned FileType(char type) {
  switch (type) {
    case 'd': return AE_IFDIR;
    case 'l': return AE_IFLNK;
    case 'c': return AE_IFCHR;
    case 'b': return AE_IFBLK;
    case 'p': return AE_IFIFO;
    default: return AE_IFREG;
  }
}

absl::Status WriteOne(struct archive* a, const TarEntry& entry) {
  std::unique_ptr<struct archive_entry, EntryDeleter> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), entry.path.c_str());
  archive_entry_set_filetype(e.get(), FileType(entry.type));
  archive_entry_set_perm(e.get(), entry.mode);
  archive_entry_set_uid(e.get(), entry.uid);
  archive_entry_set_gid(e.get(), entry.gid);
  archive_entry_set_mtime(e.get(), entry.mtime, entry.mtime_nsec);
  if (entry.type == 'l') archive_entry_set_symlink(e.get(), entry.link.c_str());
  if (entry.type == 'h') archive_entry_set_hardlink(e.get(), entry.link.c_str());
  if (entry.type == 'c' || entry.type == 'b') {
    archive_entry_set_rdevmajor(e.get(), entry.rdev_major);
    archive_entry_set_rdevminor(e.get(), entry.rdev_minor);
  }
  for (const auto& [name, value] : entry.xattrs) {
    archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
  }
  for (const auto& [offset, length] : entry.sparse) {
    archive_entry_sparse_add_entry(e.get(), offset, length);
  }
  bool has_body = entry.type == 'f' || (entry.type == 'h' && !entry.data.empty());
  archive_entry_set_size(e.get(), has_body ? static_cast<la_int64_t>(entry.data.size()) : 0);

  if (archive_write_header(a, e.get()) < ARCHIVE_WARN) {
    return Failed(a, absl::StrCat("header of ", entry.path));
  }
  if (has_body && !entry.data.empty()) {
    la_ssize_t n = archive_write_data(a, entry.data.data(), entry.data.size());
    if (n < 0) return Failed(a, absl::StrCat("data of ", entry.path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> WriteTar(const std::vector<TarEntry>& entries, TarFormat format) {
  std::string out;
  std::unique_ptr<struct archive, WriteDeleter> a(archive_write_new());
  if (format == TarFormat::kPax) {
    archive_write_set_format_pax(a.get());
  } else {
    archive_write_set_format_gnutar(a.get());
  }
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, Append, nullptr) != ARCHIVE_OK) {
    return Failed(a.get(), "open tar writer");
  }
  for (const TarEntry& entry : entries) BERTH_RETURN_IF_ERROR(WriteOne(a.get(), entry));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return Failed(a.get(), "close tar");
  return out;
}

TestLayer PlainLayer(std::string tar) {
  TestLayer layer;
  layer.diff_id = image::Sha256Digest(tar);
  layer.blob.media_type = std::string(image::media::kOciLayer);
  layer.blob.digest = layer.diff_id;
  layer.blob.data = std::move(tar);
  return layer;
}

absl::StatusOr<TestImage> CraftedImage(const std::vector<TarEntry>& entries, TarFormat format) {
  BERTH_ASSIGN_OR_RETURN(std::string tar, WriteTar(entries, format));
  return BuildImage({PlainLayer(std::move(tar))}, TestImageConfig{});
}

}  // namespace berth::e2e
