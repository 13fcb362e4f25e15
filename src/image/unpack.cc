#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/text.h"
#include "image/whiteout.h"

namespace berth::image {
namespace {

constexpr size_t kReadBlockSize = 1 << 16;

// OWNER and PERM keep uid/gid and the exact mode bits (setuid, setgid, sticky) instead of
// applying the umask. No name lookup is installed, so numeric ids are used as they are: the
// host's /etc/passwd must not change the owners of image files. SECURE_SYMLINKS rejects any path
// that runs through a symlink. Paths are made absolute below, after CleanEntryPath() rejected
// ".." and absolute names, which is why SECURE_NOABSOLUTEPATHS is not set.
constexpr int kExtractFlags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
                              ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;

constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadDeleter>;
using WriteArchive = std::unique_ptr<struct archive, WriteDeleter>;

// The uncompressed layer stream: decompressed by one libarchive reader, hashed here, and handed
// to the tar reader, so the diff id is checked without a second pass over the blob.
struct TarStream {
  struct archive* decompressor = nullptr;
  Sha256 hash;
  char buffer[kReadBlockSize];
};

la_ssize_t ReadUncompressed(struct archive* tar, void* client, const void** buffer) {
  auto* stream = static_cast<TarStream*>(client);
  la_ssize_t n = archive_read_data(stream->decompressor, stream->buffer, sizeof(stream->buffer));
  if (n < 0) {
    archive_set_error(tar, archive_errno(stream->decompressor), "%s",
                      archive_error_string(stream->decompressor));
    return -1;
  }
  stream->hash.Update(stream->buffer, static_cast<size_t>(n));
  *buffer = stream->buffer;
  return n;
}

// True when the last error of `a` is the disk failing (full, over quota, I/O error, read-only),
// which libarchive reports as a warning when it hits it while restoring metadata.
bool IsStorageError(struct archive* a) {
  int err = archive_errno(a);
  return err == ENOSPC || err == EDQUOT || err == EIO || err == EROFS;
}

absl::Status ArchiveError(struct archive* a, std::string_view what, std::string_view step) {
  const char* message = archive_error_string(a);
  std::string text = absl::StrCat(std::string(what), ": ", std::string(step), ": ",
                                  message ? message : "unknown libarchive error");
  int err = archive_errno(a);
  if (err > 0 && (message == nullptr || std::string_view(message).find(std::strerror(err)) ==
                                            std::string_view::npos)) {
    absl::StrAppend(&text, ": ", std::strerror(err));
  }
  // libarchive reports rejected entries (symlink escapes and the like) with its own
  // ARCHIVE_ERRNO_MISC (-1) or EINVAL: a bad layer, not a failing system.
  if (err > 0 && err != EINVAL) return absl::Status(ErrnoToCode(err), text);
  return absl::InvalidArgumentError(text);
}

// Opens directory `relative` below `root_fd`, one component at a time without following any
// symlink, creating missing directories (0755) when `create` is set.
absl::StatusOr<UniqueFd> OpenDirBeneath(int root_fd, const std::string& relative, bool create,
                                        const std::string& root_path) {
  UniqueFd current(::dup(root_fd));
  if (!current) return ErrnoError(errno, "dup", root_path);
  std::string walked = root_path;
  for (std::string_view part : Split(relative, '/', /*skip_empty=*/true)) {
    std::string name(part);
    walked = JoinPath(walked, name);
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(current.get(), name.c_str(), kFlags);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(current.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(errno, "mkdir", walked);
      }
      fd = ::openat(current.get(), name.c_str(), kFlags);
    }
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return absl::InvalidArgumentError(
            absl::StrCat("layer path ", walked, " runs through a symlink or a non-directory"));
      }
      return ErrnoError(errno, "open", walked);
    }
    current.Reset(fd);
  }
  return current;
}

// Makes `path` (relative to the layer root) an overlay whiteout: a 0:0 character device.
absl::Status MakeWhiteout(int root_fd, const std::string& root_path, const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent, OpenDirBeneath(root_fd, dir, true, root_path));

  std::string full = JoinPath(root_path, path);
  if (::mknodat(parent.get(), name.c_str(), S_IFCHR | 0, makedev(0, 0)) == 0) {
    return absl::OkStatus();
  }
  if (errno != EEXIST) return ErrnoError(errno, "mknod whiteout", full);

  // The same layer also had an entry at this path: the whiteout replaces it.
  struct stat st;
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(errno, "stat", full);
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer has both a directory and a whiteout at ", full));
  }
  if (::unlinkat(parent.get(), name.c_str(), 0) != 0) return ErrnoError(errno, "unlink", full);
  if (::mknodat(parent.get(), name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
    return ErrnoError(errno, "mknod whiteout", full);
  }
  return absl::OkStatus();
}

absl::Status MakeOpaque(int root_fd, const std::string& root_path, const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenDirBeneath(root_fd, dir, true, root_path));
  if (::fsetxattr(fd.get(), kOverlayOpaqueXattr, "y", 1, 0) != 0) {
    return ErrnoError(errno, absl::StrCat("setxattr ", kOverlayOpaqueXattr),
                      JoinPath(root_path, dir));
  }
  return absl::OkStatus();
}

// Removes trusted.overlay.* xattrs from an entry, so that only Berth sets overlayfs metadata.
void DropOverlayXattrs(struct archive_entry* entry) {
  if (archive_entry_xattr_reset(entry) == 0) return;
  struct Xattr {
    std::string name;
    std::string value;
  };
  std::vector<Xattr> kept;
  bool dropped = false;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    if (std::string_view(name).starts_with(kOverlayXattrPrefix)) {
      dropped = true;
      continue;
    }
    kept.push_back({name, std::string(static_cast<const char*>(value), size)});
  }
  if (!dropped) return;
  archive_entry_xattr_clear(entry);
  for (const Xattr& xattr : kept) {
    archive_entry_xattr_add_entry(entry, xattr.name.c_str(), xattr.value.data(),
                                  xattr.value.size());
  }
}

// Checks that hardlink `target` (cleaned, relative to the layer root) names a file that an
// earlier entry of this layer made, reached without any symlink: link() follows symlinks in the
// directories of its source path, and a link to a host file would let a later body write to it.
absl::Status CheckHardlinkTarget(int root_fd, const std::string& fs_dir, const std::string& path,
                                 const std::string& target) {
  auto refuse = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("layer entry \"", path,
                                                   "\" is a hardlink to \"", target, "\", ",
                                                   std::string(why)));
  };
  if (target.empty()) return refuse("the layer root");
  auto slash = target.find_last_of('/');
  std::string dir = slash == std::string::npos ? "" : target.substr(0, slash);
  std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
  auto parent = OpenDirBeneath(root_fd, dir, /*create=*/false, fs_dir);
  if (absl::IsNotFound(parent.status())) return refuse("which the layer does not contain");
  if (!parent.ok()) return refuse(std::string(parent.status().message()));
  struct stat st;
  if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return refuse("which the layer does not contain");
    return ErrnoError(errno, "stat", JoinPath(fs_dir, target));
  }
  if (S_ISDIR(st.st_mode)) return refuse("a directory");
  return absl::OkStatus();
}

// Points the entry (and its hardlink target) at absolute paths inside `fs_dir`.
absl::Status Relocate(struct archive_entry* entry, int root_fd, const std::string& fs_dir,
                      const std::string& path) {
  std::string absolute = path.empty() ? fs_dir : JoinPath(fs_dir, path);
  archive_entry_set_pathname(entry, absolute.c_str());
  if (const char* link = archive_entry_hardlink(entry)) {
    BERTH_ASSIGN_OR_RETURN(std::string target, CleanEntryPath(link));
    BERTH_RETURN_IF_ERROR(CheckHardlinkTarget(root_fd, fs_dir, path, target));
    archive_entry_set_hardlink(entry, JoinPath(fs_dir, target).c_str());
  }
  return absl::OkStatus();
}

absl::Status CopyData(struct archive* tar, struct archive* disk, std::string_view what,
                      const std::string& path) {
  while (true) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int read = archive_read_data_block(tar, &block, &size, &offset);
    if (read == ARCHIVE_EOF) return absl::OkStatus();
    if (read < ARCHIVE_WARN) return ArchiveError(tar, what, absl::StrCat("read ", path));
    // libarchive reports a failed write(2), ENOSPC included, as a mere ARCHIVE_WARN.
    if (archive_write_data_block(disk, block, size, offset) != ARCHIVE_OK) {
      return ArchiveError(disk, what, absl::StrCat("write ", path));
    }
  }
}

// Writes one regular entry (file, directory, link, device) through libarchive.
absl::Status ExtractEntry(struct archive* tar, struct archive* disk, struct archive_entry* entry,
                          int root_fd, const std::string& fs_dir, const std::string& path,
                          std::string_view what) {
  BERTH_RETURN_IF_ERROR(Annotate(Relocate(entry, root_fd, fs_dir, path), what));
  DropOverlayXattrs(entry);
  int written = archive_write_header(disk, entry);
  if (written < ARCHIVE_WARN) return ArchiveError(disk, what, absl::StrCat("extract ", path));
  if (written == ARCHIVE_WARN) {
    Logger("image")->warn("layer entry extracted with a warning layer=\"{}\" path={} warning=\"{}\"",
                          what, path, archive_error_string(disk));
  }
  // Write errors name the file on disk: they are about the disk, not the layer.
  std::string full_path = JoinPath(fs_dir, path);
  if (archive_entry_size(entry) > 0) {
    BERTH_RETURN_IF_ERROR(CopyData(tar, disk, what, full_path));
  }
  int finished = archive_write_finish_entry(disk);
  if (finished < ARCHIVE_WARN || (finished == ARCHIVE_WARN && IsStorageError(disk))) {
    return ArchiveError(disk, what, absl::StrCat("finish ", full_path));
  }
  if (finished == ARCHIVE_WARN) {
    Logger("image")->warn("layer entry metadata not fully restored layer=\"{}\" path={} "
                          "warning=\"{}\"",
                          what, path, archive_error_string(disk));
  }
  return absl::OkStatus();
}

// Reads every entry of the tar and writes it below `fs_dir`. Opaque directories are marked after
// the last entry, so a later entry for the same directory cannot drop the xattr.
absl::Status ExtractAll(struct archive* tar, const std::string& fs_dir, std::string_view what) {
  UniqueFd root_fd(::open(fs_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd) return ErrnoError(errno, "open", fs_dir);
  WriteArchive disk(archive_write_disk_new());
  archive_write_disk_set_options(disk.get(), kExtractFlags);

  std::map<std::string, std::string> opaque_dirs;  // directory -> the marker entry's name
  while (true) {
    struct archive_entry* entry = nullptr;
    int read = archive_read_next_header(tar, &entry);
    if (read == ARCHIVE_EOF) break;
    if (read < ARCHIVE_WARN) return ArchiveError(tar, what, "read tar header");

    const char* raw_path = archive_entry_pathname(entry);
    auto kind = ClassifyEntry(raw_path ? raw_path : "");
    if (!kind.ok()) return Annotate(kind.status(), what);
    switch (kind->kind) {
      case EntryKind::kExtract:
        BERTH_RETURN_IF_ERROR(
            ExtractEntry(tar, disk.get(), entry, root_fd.get(), fs_dir, kind->path, what));
        break;
      case EntryKind::kWhiteout:
        BERTH_RETURN_IF_ERROR(
            Annotate(MakeWhiteout(root_fd.get(), fs_dir, kind->path),
                     absl::StrCat(std::string(what), ": whiteout \"", raw_path, "\"")));
        break;
      case EntryKind::kOpaque:
        opaque_dirs.emplace(kind->path, raw_path);
        break;
      case EntryKind::kSkip:
        break;
    }
  }
  // Closing applies the deferred directory modes and mtimes.
  if (archive_write_close(disk.get()) < ARCHIVE_WARN) {
    return ArchiveError(disk.get(), what, "finish extraction");
  }
  for (const auto& [dir, marker] : opaque_dirs) {
    BERTH_RETURN_IF_ERROR(
        Annotate(MakeOpaque(root_fd.get(), fs_dir, dir),
                 absl::StrCat(std::string(what), ": opaque marker \"", marker, "\"")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status UnpackLayer(const std::string& blob_path, const std::string& fs_dir,
                         const std::string& diff_id, std::string_view what) {
  // Stage 1: the blob, decompressed (gzip, zstd or nothing) into one raw stream.
  ReadArchive decompressor(archive_read_new());
  archive_read_support_filter_gzip(decompressor.get());
  archive_read_support_filter_zstd(decompressor.get());
  archive_read_support_format_raw(decompressor.get());
  if (archive_read_open_filename(decompressor.get(), blob_path.c_str(), kReadBlockSize) !=
      ARCHIVE_OK) {
    return ArchiveError(decompressor.get(), what, absl::StrCat("open ", blob_path));
  }
  struct archive_entry* raw_entry = nullptr;
  if (archive_read_next_header(decompressor.get(), &raw_entry) != ARCHIVE_OK) {
    return ArchiveError(decompressor.get(), what, "decompress");
  }

  // Stage 2: that stream read as a tar and written to disk.
  auto stream = std::make_unique<TarStream>();
  stream->decompressor = decompressor.get();
  ReadArchive tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  if (archive_read_open(tar.get(), stream.get(), nullptr, ReadUncompressed, nullptr) !=
      ARCHIVE_OK) {
    return ArchiveError(tar.get(), what, "open tar");
  }
  BERTH_RETURN_IF_ERROR(ExtractAll(tar.get(), fs_dir, what));

  // The tar reader stops at the end-of-archive marker; the padding after it is part of the
  // stream the diff id covers.
  while (true) {
    la_ssize_t n =
        archive_read_data(decompressor.get(), stream->buffer, sizeof(stream->buffer));
    if (n < 0) return ArchiveError(decompressor.get(), what, "decompress");
    if (n == 0) break;
    stream->hash.Update(stream->buffer, static_cast<size_t>(n));
  }
  std::string actual = stream->hash.Finish();
  if (actual != diff_id) {
    return absl::DataLossError(absl::StrCat(std::string(what),
                                            ": uncompressed digest (diff id) mismatch: expected ",
                                            diff_id, ", got ", actual));
  }
  return absl::OkStatus();
}

}  // namespace berth::image
