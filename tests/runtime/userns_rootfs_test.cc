// ShiftOwnership on a real directory tree. The tests need root to chown to any id and to set
// security.capability, so they are skipped for other users.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "runtime/linux/userns_rootfs.h"
#include "support/temp_dir.h"

namespace berth::runtime {
namespace {

using test_support::TempDir;

// A version 2 file capability blob (struct vfs_cap_data, little endian): CAP_NET_BIND_SERVICE
// (bit 10) permitted and effective.
std::vector<char> NetBindCapability() {
  const uint32_t words[5] = {0x02000000u | 0x1u, 1u << 10, 0, 0, 0};
  std::vector<char> blob(sizeof(words));
  std::memcpy(blob.data(), words, sizeof(words));
  return blob;
}

struct Owner {
  uid_t uid;
  gid_t gid;
};

class ShiftOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_FALSE(dir_.path().empty());
    root_ = dir_.Sub("root");
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
  }

  std::string At(const std::string& name) const { return root_ + "/" + name; }

  void MakeFile(const std::string& name, Owner owner, mode_t mode = 0644) {
    std::string path = At(name);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd) << path << ": " << std::strerror(errno);
    ASSERT_EQ(::fchown(fd.get(), owner.uid, owner.gid), 0) << path;
    ASSERT_EQ(::fchmod(fd.get(), mode), 0) << path;
  }

  void MakeDir(const std::string& name, Owner owner) {
    ASSERT_EQ(::mkdir(At(name).c_str(), 0755), 0) << At(name);
    ASSERT_EQ(::lchown(At(name).c_str(), owner.uid, owner.gid), 0);
  }

  struct stat Lstat(const std::string& name) const {
    struct stat st {};
    EXPECT_EQ(::lstat(At(name).c_str(), &st), 0) << At(name) << ": " << std::strerror(errno);
    return st;
  }

  void ExpectOwner(const std::string& name, Owner owner) const {
    struct stat st = Lstat(name);
    EXPECT_EQ(st.st_uid, owner.uid) << name;
    EXPECT_EQ(st.st_gid, owner.gid) << name;
  }

  absl::Status Shift(const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids) {
    UniqueFd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return ErrnoError(errno, "open", root_);
    return ShiftOwnership(fd.get(), root_, uids, gids);
  }

  TempDir dir_;
  std::string root_;
};

// uids 0..65535 -> 100000.., gids 0..65535 -> 200000..
const std::vector<IdMapping> kUids = {{0, 100000, 65536}};
const std::vector<IdMapping> kGids = {{0, 200000, 65536}};

TEST_F(ShiftOwnershipTest, OwnersFollowTheMappings) {
  ASSERT_EQ(::lchown(root_.c_str(), 0, 0), 0);
  MakeFile("plain", {0, 0});
  MakeFile("user", {1000, 50});
  MakeFile("outside", {70000, 80000});
  MakeFile("half", {65535, 70000});
  MakeDir("etc", {0, 0});
  MakeFile("etc/passwd", {0, 42});
  MakeDir("etc/deep", {33, 33});
  MakeFile("etc/deep/leaf", {65536, 65535});
  ASSERT_EQ(::mkfifo(At("etc/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::lchown(At("etc/fifo").c_str(), 7, 8), 0);

  ASSERT_TRUE(Shift(kUids, kGids).ok()) << Shift(kUids, kGids);

  struct stat root;
  ASSERT_EQ(::stat(root_.c_str(), &root), 0);
  EXPECT_EQ(root.st_uid, 100000u) << "the directory itself is shifted";
  EXPECT_EQ(root.st_gid, 200000u);
  ExpectOwner("plain", {100000, 200000});
  ExpectOwner("user", {101000, 200050});
  ExpectOwner("outside", {70000, 80000});
  ExpectOwner("half", {165535, 70000});
  ExpectOwner("etc", {100000, 200000});
  ExpectOwner("etc/passwd", {100000, 200042});
  ExpectOwner("etc/deep", {100033, 200033});
  ExpectOwner("etc/deep/leaf", {65536, 265535});
  ExpectOwner("etc/fifo", {100007, 200008});
  EXPECT_TRUE(S_ISFIFO(Lstat("etc/fifo").st_mode));
  EXPECT_EQ(Lstat("plain").st_mode & 07777, 0644u);
}

TEST_F(ShiftOwnershipTest, SymlinkItselfIsChowned) {
  MakeFile("target", {70000, 70000});
  ASSERT_EQ(::symlink("target", At("link").c_str()), 0);
  ASSERT_EQ(::lchown(At("link").c_str(), 5, 6), 0);
  // A link that leads outside the tree must not be followed either.
  MakeFile("../outside-target", {0, 0});
  ASSERT_EQ(::symlink(dir_.Sub("outside-target").c_str(), At("escape").c_str()), 0);
  ASSERT_EQ(::lchown(At("escape").c_str(), 0, 0), 0);

  ASSERT_TRUE(Shift(kUids, kGids).ok());

  EXPECT_TRUE(S_ISLNK(Lstat("link").st_mode));
  ExpectOwner("link", {100005, 200006});
  ExpectOwner("target", {70000, 70000});
  ExpectOwner("escape", {100000, 200000});
  struct stat outside;
  ASSERT_EQ(::lstat(dir_.Sub("outside-target").c_str(), &outside), 0);
  EXPECT_EQ(outside.st_uid, 0u);
  EXPECT_EQ(outside.st_gid, 0u);
}

TEST_F(ShiftOwnershipTest, SetIdBitsSurvive) {
  MakeFile("su", {0, 0}, 04755);
  MakeFile("sg", {0, 5}, 02755);
  ASSERT_EQ(Lstat("su").st_mode & 07777, 04755u);

  ASSERT_TRUE(Shift(kUids, kGids).ok());

  ExpectOwner("su", {100000, 200000});
  EXPECT_EQ(Lstat("su").st_mode & 07777, 04755u);
  ExpectOwner("sg", {100000, 200005});
  EXPECT_EQ(Lstat("sg").st_mode & 07777, 02755u);
}

TEST_F(ShiftOwnershipTest, FileCapabilitySurvives) {
  MakeFile("ping", {0, 0}, 0755);
  std::vector<char> caps = NetBindCapability();
  ASSERT_EQ(::setxattr(At("ping").c_str(), "security.capability", caps.data(), caps.size(), 0), 0)
      << std::strerror(errno);

  ASSERT_TRUE(Shift(kUids, kGids).ok());

  ExpectOwner("ping", {100000, 200000});
  std::vector<char> read(64);
  ssize_t n = ::getxattr(At("ping").c_str(), "security.capability", read.data(), read.size());
  ASSERT_EQ(n, static_cast<ssize_t>(caps.size())) << std::strerror(errno);
  read.resize(static_cast<size_t>(n));
  EXPECT_EQ(read, caps);
  EXPECT_EQ(Lstat("ping").st_mode & 07777, 0755u);
}

TEST_F(ShiftOwnershipTest, UnmappedIdsLeftAlone) {
  MakeFile("nobody", {65534, 65534}, 04755);
  MakeFile("high", {4000000000u, 4000000000u}, 04755);

  // Only uid 65534 is mapped, and gid 65534 is not.
  ASSERT_TRUE(Shift({{65534, 300000, 1}}, {{0, 200000, 1}}).ok());

  ExpectOwner("nobody", {300000, 65534});
  EXPECT_EQ(Lstat("nobody").st_mode & 07777, 04755u);
  ExpectOwner("high", {4000000000u, 4000000000u});
  EXPECT_EQ(Lstat("high").st_mode & 07777, 04755u);
}

TEST_F(ShiftOwnershipTest, SeveralRanges) {
  MakeFile("a", {0, 0});
  MakeFile("b", {1000, 1000});
  MakeFile("c", {1500, 999});
  std::vector<IdMapping> uids = {{0, 100000, 1000}, {1000, 500000, 1000}};
  std::vector<IdMapping> gids = {{0, 600000, 1000}, {1000, 700000, 1000}};

  ASSERT_TRUE(Shift(uids, gids).ok());

  ExpectOwner("a", {100000, 600000});
  ExpectOwner("b", {500000, 700000});
  ExpectOwner("c", {500500, 600999});
}

// With host ids inside the container range (0 -> 1000), shifting the second link again would
// move the owner on to 2000.
TEST_F(ShiftOwnershipTest, HardLinkedFileIsShiftedOnce) {
  MakeFile("first", {0, 0});
  ASSERT_EQ(::link(At("first").c_str(), At("second").c_str()), 0);

  ASSERT_TRUE(Shift({{0, 1000, 65536}}, {{0, 1000, 65536}}).ok());

  ExpectOwner("first", {1000, 1000});
  ExpectOwner("second", {1000, 1000});
}

TEST_F(ShiftOwnershipTest, BadDescriptorNamesPath) {
  absl::Status status = ShiftOwnership(-1, "/nowhere", kUids, kGids);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/nowhere"), std::string::npos) << status;
}

}  // namespace
}  // namespace berth::runtime
