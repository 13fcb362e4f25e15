// Unpacking keeps everything a layer records: a two-layer image holding every kind of entry is
// pulled from a real registry, and each snapshot is compared, file by file, with its layer tar
// read back independently (type, mode, owner, size, content hash, link target, xattrs, mtime,
// device numbers; whiteouts as overlay whiteouts, opaque markers as the overlay xattr).
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "e2e/support/crafted_tar.h"
#include "e2e/support/image_store_fixture.h"
#include "image/digest.h"

namespace berth::image {
namespace {

using e2e::TarEntry;
using e2e::TarFormat;

// What one path of a snapshot must look like, as read from the layer tar.
struct Expected {
  unsigned type = 0;  // AE_IF*, or 0 for "same inode as `hardlink`"
  uint32_t perm = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;
  std::string sha256;
  std::string symlink;
  std::string hardlink;
  std::map<std::string, std::string> xattrs;
  int64_t mtime = 0;
  long mtime_nsec = 0;
  dev_t rdev = 0;
  bool sparse = false;
  bool whiteout = false;
};

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

std::string Clean(std::string path) {
  while (path.starts_with("./")) path.erase(0, 2);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::string Dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string Base(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Reads `tar` with libarchive and returns, per path, what the snapshot must hold after OCI
// whiteouts became overlay whiteouts. Later entries for a path replace earlier ones.
std::map<std::string, Expected> ExpectedTree(const std::string& tar) {
  std::map<std::string, Expected> tree;
  std::set<std::string> opaque;
  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  EXPECT_EQ(archive_read_open_memory(a.get(), tar.data(), tar.size()), ARCHIVE_OK);
  struct archive_entry* entry = nullptr;
  while (archive_read_next_header(a.get(), &entry) == ARCHIVE_OK) {
    std::string path = Clean(archive_entry_pathname(entry));
    std::string name = Base(path);
    if (name == ".wh..wh..opq") {
      opaque.insert(Dir(path));
      continue;
    }
    if (name.starts_with(".wh.")) {
      std::string dir = Dir(path);
      std::string hidden = name.substr(4);
      Expected whiteout;
      whiteout.type = AE_IFCHR;
      whiteout.whiteout = true;
      tree[dir.empty() ? hidden : dir + "/" + hidden] = whiteout;
      continue;
    }
    Expected e;
    if (const char* link = archive_entry_hardlink(entry)) {
      e.hardlink = Clean(link);
      tree[path] = e;
      continue;
    }
    e.type = archive_entry_filetype(entry);
    e.perm = archive_entry_perm(entry);
    e.uid = archive_entry_uid(entry);
    e.gid = archive_entry_gid(entry);
    e.mtime = archive_entry_mtime(entry);
    e.mtime_nsec = archive_entry_mtime_nsec(entry);
    e.rdev = makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
    if (const char* target = archive_entry_symlink(entry)) e.symlink = target;
    archive_entry_xattr_reset(entry);
    const char* xname = nullptr;
    const void* xvalue = nullptr;
    size_t xsize = 0;
    while (archive_entry_xattr_next(entry, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
      e.xattrs[xname] = std::string(static_cast<const char*>(xvalue), xsize);
    }
    e.sparse = archive_entry_sparse_count(entry) > 0;
    if (e.type == AE_IFREG) {
      e.size = archive_entry_size(entry);
      std::string content(static_cast<size_t>(e.size), '\0');
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      while (archive_read_data_block(a.get(), &block, &size, &offset) == ARCHIVE_OK) {
        content.replace(static_cast<size_t>(offset), size, static_cast<const char*>(block), size);
      }
      e.sha256 = Sha256Digest(content);
    }
    tree[path] = e;
  }
  for (const std::string& dir : opaque) tree[dir].xattrs["trusted.overlay.opaque"] = "y";
  return tree;
}

unsigned TypeOf(mode_t mode) { return mode & S_IFMT; }

std::map<std::string, std::string> XattrsOf(const std::string& path) {
  std::map<std::string, std::string> result;
  char names[4096];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof(names));
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(strlen(names + i)) + 1) {
    std::string name = names + i;
    char value[4096];
    ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof(value));
    if (size >= 0) result[name] = std::string(value, static_cast<size_t>(size));
  }
  return result;
}

// Every path below `root`, relative, root excluded.
void Walk(const std::string& root, const std::string& relative, std::set<std::string>& out) {
  std::string dir_path = relative.empty() ? root : JoinPath(root, relative);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_path.c_str()), ::closedir);
  if (!dir) return;
  while (struct dirent* d = ::readdir(dir.get())) {
    std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    std::string child = relative.empty() ? name : relative + "/" + name;
    out.insert(child);
    if (d->d_type == DT_DIR) Walk(root, child, out);
  }
}

// Compares the snapshot `fs_dir` with `tar`; returns how many paths were compared and how many
// of them were sparse files.
std::pair<int, int> CompareTree(const std::string& fs_dir, const std::string& tar,
                                const std::string& layer) {
  SCOPED_TRACE(layer);
  std::map<std::string, Expected> expected = ExpectedTree(tar);
  int sparse_files = 0;
  std::set<std::string> actual;
  Walk(fs_dir, "", actual);
  std::set<std::string> wanted;
  for (const auto& [path, e] : expected) {
    if (!path.empty()) wanted.insert(path);
  }
  EXPECT_EQ(actual, wanted);

  for (const auto& [path, e] : expected) {
    SCOPED_TRACE(path);
    std::string full = path.empty() ? fs_dir : JoinPath(fs_dir, path);
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) {
      ADD_FAILURE() << "missing " << full;
      continue;
    }
    if (!e.hardlink.empty()) {
      struct stat target {};
      EXPECT_EQ(::lstat(JoinPath(fs_dir, e.hardlink).c_str(), &target), 0);
      EXPECT_EQ(st.st_ino, target.st_ino);
      EXPECT_GE(st.st_nlink, 2u);
      continue;
    }
    EXPECT_EQ(TypeOf(st.st_mode), e.type);
    if (e.whiteout) {
      EXPECT_EQ(st.st_rdev, makedev(0, 0));
      continue;
    }
    if (path.empty()) {  // the layer root: only the opaque marker applies
      EXPECT_EQ(XattrsOf(full), e.xattrs);
      continue;
    }
    EXPECT_EQ(st.st_mode & 07777, e.perm);
    EXPECT_EQ(static_cast<int64_t>(st.st_uid), e.uid);
    EXPECT_EQ(static_cast<int64_t>(st.st_gid), e.gid);
    EXPECT_EQ(st.st_mtim.tv_sec, e.mtime);
    EXPECT_EQ(st.st_mtim.tv_nsec, e.mtime_nsec);
    if (e.type == AE_IFLNK) {
      char target[8192];
      ssize_t n = ::readlink(full.c_str(), target, sizeof(target));
      EXPECT_EQ(std::string(target, static_cast<size_t>(std::max<ssize_t>(n, 0))), e.symlink);
      continue;
    }
    EXPECT_EQ(XattrsOf(full), e.xattrs);
    if (e.type == AE_IFCHR || e.type == AE_IFBLK) {
      EXPECT_EQ(st.st_rdev, e.rdev);
    }
    if (e.type == AE_IFREG) {
      EXPECT_EQ(st.st_size, e.size);
      auto content = ReadFile(full);
      EXPECT_TRUE(content.ok()) << content.status();
      if (content.ok()) {
        EXPECT_EQ(Sha256Digest(*content), e.sha256);
      }
      if (e.sparse) {
        ++sparse_files;
        EXPECT_LT(st.st_blocks * 512, e.size / 2) << "holes were filled";
      }
    }
  }
  return {static_cast<int>(expected.size()), sparse_files};
}

// A tar made by GNU tar (`format` "posix" or "gnu") holding one sparse file of 8 MiB with data
// at 0 and at 5 MiB, so the sparse records come from another writer than libarchive.
absl::StatusOr<std::string> GnuTarSparse(const std::string& temp, const std::string& format) {
  std::string dir = JoinPath(temp, "sparse-" + format);
  BERTH_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  std::string file = JoinPath(dir, "sparse.img");
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return absl::InternalError("create " + file);
  std::string block(8192, 's');
  bool written = ::pwrite(fd, block.data(), block.size(), 0) == 8192 &&
                 ::pwrite(fd, block.data(), block.size(), 5 << 20) == 8192 &&
                 ::ftruncate(fd, 8 << 20) == 0;
  ::close(fd);
  if (!written) return absl::InternalError("write " + file);
  std::string tar = JoinPath(temp, "sparse-" + format + ".tar");
  std::string command = absl::StrCat("tar --sparse --format=", format,
                                     " --owner=0 --group=0 --mtime=@1700000000 -C ", dir,
                                     " -cf ", tar, " sparse.img");
  if (std::system(command.c_str()) != 0) return absl::InternalError("failed: " + command);
  return ReadFile(tar);
}

TarEntry File(const std::string& path, const std::string& data, uint32_t mode = 0644) {
  TarEntry e;
  e.path = path;
  e.data = data;
  e.mode = mode;
  return e;
}

TarEntry Node(char type, const std::string& path, uint32_t mode, const std::string& link = "") {
  TarEntry e;
  e.type = type;
  e.path = path;
  e.mode = mode;
  e.link = link;
  return e;
}

// A valid VFS_CAP_REVISION_2 value: cap_net_bind_service (10), permitted and effective.
std::string NetBindCapability() {
  uint32_t words[5] = {0x02000001u, 1u << 10, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(words), sizeof(words));
}

std::vector<TarEntry> PaxLayerEntries() {
  std::vector<TarEntry> entries;
  entries.push_back(Node('d', "etc", 0755));
  entries.push_back(File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"));
  entries.back().mtime_nsec = 500000000;

  // Files first, then their directory: its mode and mtime must survive what went in.
  TarEntry su = File("bin/su", "setuid program", 04755);
  su.uid = 0;
  su.gid = 0;
  entries.push_back(su);
  TarEntry wall = File("bin/wall", "setgid program", 02755);
  wall.uid = 1000;
  wall.gid = 5;
  entries.push_back(wall);
  TarEntry ping = File("bin/ping", "capable program", 0755);
  ping.xattrs["security.capability"] = NetBindCapability();
  ping.xattrs["user.origin"] = "crafted";
  entries.push_back(ping);
  entries.push_back(Node('l', "bin/sh", 0777, "busybox"));
  entries.push_back(Node('h', "bin/su-again", 0, "bin/su"));
  TarEntry bin = Node('d', "bin", 0750);
  bin.gid = 10;
  bin.mtime = 1600000000;
  entries.push_back(bin);

  TarEntry secret = File("home/user/secret", "owned by a large uid", 0600);
  secret.uid = 3000000;
  secret.gid = 3000001;
  secret.mtime_nsec = 123456789;
  entries.push_back(secret);
  TarEntry home = Node('d', "home/user", 0700);
  home.uid = 3000000;
  home.gid = 3000001;
  home.mtime = 1500000000;
  entries.push_back(home);
  entries.insert(entries.end() - 2, Node('d', "home", 0755));

  entries.push_back(Node('l', "absolute", 0777, "/etc/passwd"));
  entries.push_back(Node('l', "dangling", 0777, "../../../nowhere"));
  entries.push_back(Node('d', "dev", 0755));
  TarEntry null = Node('c', "dev/null", 0666);
  null.rdev_major = 1;
  null.rdev_minor = 3;
  entries.push_back(null);
  TarEntry loop = Node('b', "dev/loop9", 0660);
  loop.rdev_major = 7;
  loop.rdev_minor = 9;
  loop.gid = 6;
  entries.push_back(loop);
  entries.push_back(Node('d', "run", 0755));
  entries.push_back(Node('p', "run/fifo", 0620));
  entries.push_back(Node('d', "tmp", 01777));

  constexpr int64_t kSparseSize = 4 << 20;
  TarEntry sparse = File("var/sparse.img", std::string(kSparseSize, '\0'));
  sparse.data.replace(0, 4096, std::string(4096, 'a'));
  sparse.data.replace(3 << 20, 4096, std::string(4096, 'b'));
  sparse.sparse = {{0, 4096}, {3 << 20, 4096}, {kSparseSize, 0}};
  entries.insert(entries.end(), {Node('d', "var", 0755), sparse});

  std::string long_dir = "deep/" + std::string(200, 'd');
  std::string long_file = long_dir + "/" + std::string(150, 'f');
  entries.push_back(Node('d', "deep", 0755));
  entries.push_back(Node('d', long_dir, 0711));
  entries.push_back(File(long_file, "a path longer than 255 bytes"));
  entries.push_back(Node('l', "long-symlink", 0777, std::string(300, 't')));
  entries.push_back(Node('h', "long-hardlink", 0, long_file));

  entries.push_back(Node('d', "keep", 0755));
  entries.push_back(File("keep/old", "hidden by the opaque marker above"));
  entries.push_back(File("gone", "deleted by the layer above"));
  return entries;
}

std::vector<TarEntry> GnuLayerEntries() {
  std::vector<TarEntry> entries;
  entries.push_back(File(".wh.gone", ""));
  entries.push_back(Node('d', "keep", 0700));
  entries.push_back(File("keep/.wh..wh..opq", ""));
  entries.push_back(File("keep/new", "only file left in keep"));
  entries.push_back(Node('d', "bin", 0755));
  entries.push_back(File("bin/.wh.ping", ""));
  std::string long_file = "gnu/" + std::string(180, 'g');
  entries.push_back(Node('d', "gnu", 0755));
  entries.push_back(File(long_file, "GNU long name record"));
  entries.push_back(Node('l', "gnu/long-target", 0777, std::string(200, 'x')));
  entries.push_back(Node('h', "gnu/link-to-long", 0, long_file));
  TarEntry etc = Node('d', "etc", 0755);
  etc.mtime = 1400000000;
  entries.push_back(etc);
  return entries;
}

class UnpackExactTest : public e2e::ImageStoreTest {};

TEST_F(UnpackExactTest, SnapshotsMatchTheLayerTars) {
  auto pax = e2e::WriteTar(PaxLayerEntries(), TarFormat::kPax);
  auto gnu = e2e::WriteTar(GnuLayerEntries(), TarFormat::kGnu);
  ASSERT_TRUE(pax.ok()) << pax.status();
  ASSERT_TRUE(gnu.ok()) << gnu.status();
  auto posix_sparse = GnuTarSparse(temp_, "posix");
  auto gnu_sparse = GnuTarSparse(temp_, "gnu");
  ASSERT_TRUE(posix_sparse.ok()) << posix_sparse.status();
  ASSERT_TRUE(gnu_sparse.ok()) << gnu_sparse.status();
  std::vector<std::string> tars = {*pax, *gnu, *posix_sparse, *gnu_sparse};
  std::vector<e2e::TestLayer> layers;
  for (const std::string& tar : tars) layers.push_back(e2e::PlainLayer(tar));
  auto image = e2e::BuildImage(layers, {});
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("exact", "latest", *image).ok());

  auto record = store_->Pull(Ref("exact:latest"));
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->snapshot_dirs.size(), tars.size());
  const char* names[] = {"pax layer", "gnu layer", "posix sparse layer", "gnu sparse layer"};
  int compared = 0;
  int sparse = 0;
  for (size_t i = 0; i < tars.size(); ++i) {
    auto [paths, sparse_files] = CompareTree(record->snapshot_dirs[i], tars[i], names[i]);
    compared += paths;
    sparse += sparse_files;
  }
  EXPECT_GE(compared, 40);
  EXPECT_EQ(sparse, 2);  // the GNU tar layers; libarchive's PAX writer stores the zeros
  RecordProperty("paths_compared", compared);
}

}  // namespace
}  // namespace berth::image
