// A crafted layer cannot write outside its snapshot. Each test serves one hostile layer from a
// real registry and pulls it; the pull either fails with an error naming the entry, or the
// entry is contained in the snapshot. Either way a canary file next to the store (in the test's
// temporary folder, outside the store root) keeps its content and nothing appears beside it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/crafted_tar.h"
#include "e2e/support/image_store_fixture.h"

namespace berth::image {
namespace {

using e2e::TarEntry;

constexpr const char* kCanaryText = "host file, must not change\n";

// Sorted names in `dir`, without "." and "..".
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
  if (!handle) return names;
  while (struct dirent* entry = ::readdir(handle.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TarEntry Entry(char type, const std::string& path, const std::string& data_or_link = "") {
  TarEntry e;
  e.type = type;
  e.path = path;
  e.mode = type == 'd' ? 0755 : 0644;
  if (type == 'l' || type == 'h') {
    e.link = data_or_link;
  } else {
    e.data = data_or_link;
  }
  return e;
}

class UnpackSafetyTest : public e2e::ImageStoreTest {
 protected:
  void SetUp() override {
    e2e::ImageStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    canary_ = JoinPath(temp_, "canary");
    ASSERT_TRUE(WriteFileAtomic(canary_, kCanaryText, 0644).ok());
    // The snapshot is unpacked in <root>/snapshots/tmp-<id>/fs: four levels below temp_.
    up_ = "../../../../";
  }

  // Pushes a one-layer image of `entries` as `repo` and pulls it.
  absl::StatusOr<ImageRecord> PullCrafted(const std::string& repo,
                                          const std::vector<TarEntry>& entries) {
    auto image = e2e::CraftedImage(entries);
    if (!image.ok()) return image.status();
    absl::Status pushed = registry_->PushImage(repo, "latest", *image);
    if (!pushed.ok()) return pushed;
    return store_->Pull(Ref(repo + ":latest"));
  }

  // The canary is unchanged, and the test folder holds only the canary and the store root.
  void ExpectHostUntouched() {
    auto content = ReadFile(canary_);
    ASSERT_TRUE(content.ok()) << content.status();
    EXPECT_EQ(*content, kCanaryText);
    struct stat st {};
    ASSERT_EQ(::lstat(canary_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_nlink, 1u) << "a layer made a hardlink to the canary";
    EXPECT_EQ(ListDir(temp_), (std::vector<std::string>{"canary", "root"}));
  }

  // A refused pull names `entry` and leaves no snapshot or temporary folder behind.
  void ExpectRefused(const absl::StatusOr<ImageRecord>& pulled, const std::string& entry) {
    ASSERT_FALSE(pulled.ok()) << "the pull succeeded";
    EXPECT_TRUE(absl::IsInvalidArgument(pulled.status())) << pulled.status();
    EXPECT_NE(pulled.status().message().find(entry), std::string::npos) << pulled.status();
    EXPECT_TRUE(ListDir(JoinPath(root_, "snapshots")).empty());
    ExpectHostUntouched();
  }

  std::string canary_;
  std::string up_;
};

TEST_F(UnpackSafetyTest, DotDotEntryIsRefused) {
  std::string path = up_ + "canary";
  auto pulled = PullCrafted("dotdot", {Entry('f', "ok", "fine"), Entry('f', path, "overwritten")});
  ExpectRefused(pulled, path);
}

TEST_F(UnpackSafetyTest, DotDotInsideAPathIsRefused) {
  std::string path = "a/b/../../" + up_ + "escaped";
  auto pulled = PullCrafted("dotdot-inner", {Entry('d', "a"), Entry('d', "a/b"),
                                              Entry('f', path, "outside")});
  ExpectRefused(pulled, path);
}

TEST_F(UnpackSafetyTest, AbsolutePathIsRefused) {
  auto pulled = PullCrafted("absolute", {Entry('f', canary_, "overwritten")});
  ExpectRefused(pulled, canary_);
}

TEST_F(UnpackSafetyTest, WriteThroughAbsoluteDirSymlinkIsRefused) {
  auto pulled = PullCrafted("symlink-abs", {Entry('l', "evil", temp_),
                                            Entry('f', "evil/canary", "overwritten")});
  ExpectRefused(pulled, "evil/canary");
}

TEST_F(UnpackSafetyTest, WriteThroughRelativeDirSymlinkIsRefused) {
  auto pulled = PullCrafted("symlink-rel", {Entry('d', "sub"), Entry('l', "sub/up", "../" + up_),
                                            Entry('f', "sub/up/escaped", "outside")});
  ExpectRefused(pulled, "sub/up/escaped");
}

TEST_F(UnpackSafetyTest, WriteThroughSymlinkToRootIsRefused) {
  // Had this been followed, it would create a file in the host's /tmp: the name is unique.
  std::string leaf = absl::StrCat("berth-escape-", ::getpid());
  auto pulled = PullCrafted("symlink-root", {Entry('l', "root", "/"),
                                             Entry('f', "root/tmp/" + leaf, "outside")});
  ExpectRefused(pulled, "root/tmp/" + leaf);
  EXPECT_FALSE(PathExists(JoinPath("/tmp", leaf)));
}

TEST_F(UnpackSafetyTest, HardlinkOutsideTheLayerIsRefused) {
  std::string target = up_ + "canary";
  auto pulled = PullCrafted("hardlink-dotdot", {Entry('h', "link", target)});
  ExpectRefused(pulled, target);
}

TEST_F(UnpackSafetyTest, HardlinkToAbsolutePathIsRefused) {
  auto pulled = PullCrafted("hardlink-abs", {Entry('h', "link", canary_)});
  ExpectRefused(pulled, canary_);
}

TEST_F(UnpackSafetyTest, HardlinkThroughSymlinkIsRefused) {
  // link() follows symlinks in the directories of its source: "evil/canary" would be the host
  // file, and the body of the hardlink entry would then be written into it.
  TarEntry link = Entry('h', "link", "evil/canary");
  link.data = "overwritten through a hardlink";
  auto pulled = PullCrafted("hardlink-symlink", {Entry('l', "evil", temp_), link});
  ExpectRefused(pulled, "evil/canary");
}

TEST_F(UnpackSafetyTest, HardlinkToMissingFileIsRefused) {
  auto pulled = PullCrafted("hardlink-missing", {Entry('h', "link", "no/such/file")});
  ExpectRefused(pulled, "no/such/file");
}

TEST_F(UnpackSafetyTest, WhiteoutNamesThatEscapeAreRefusedOrContained) {
  // ".." inside the whiteout's path: refused.
  std::string dotdot = up_ + ".wh.canary";
  ExpectRefused(PullCrafted("wh-dotdot", {Entry('f', dotdot)}), dotdot);
  // The whiteout of ".." itself: refused.
  ExpectRefused(PullCrafted("wh-parent", {Entry('f', "sub/.wh...")}), "sub/.wh...");
  // A whiteout below a symlink the layer made: refused, nothing is made through the link.
  ExpectRefused(PullCrafted("wh-symlink", {Entry('l', "evil", temp_),
                                           Entry('f', "evil/.wh.canary")}),
                "evil/.wh.canary");
  // An opaque marker below such a symlink: refused, the host folder gets no xattr.
  ExpectRefused(PullCrafted("opq-symlink", {Entry('l', "evil", temp_),
                                            Entry('f', "evil/.wh..wh..opq")}),
                "evil");

  // An encoded slash is no slash: the whiteout stays a node of that literal name.
  auto encoded = PullCrafted("wh-encoded", {Entry('f', ".wh.%2f..%2f..%2fcanary")});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  struct stat st {};
  std::string node = JoinPath(encoded->snapshot_dirs[0], "%2f..%2f..%2fcanary");
  ASSERT_EQ(::lstat(node.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  ASSERT_TRUE(store_->Remove(encoded->id).ok());
  ExpectHostUntouched();
}

TEST_F(UnpackSafetyTest, DeviceNodesAreContainedAsNodes) {
  // A block device with the numbers of the disk that holds the test folder. Unpacking makes it
  // as a node inside the snapshot and never opens it; whether a container may use it is up to
  // the container's device rules, not to the image.
  struct stat host {};
  ASSERT_EQ(::stat(temp_.c_str(), &host), 0);
  TarEntry disk = Entry('b', "dev/disk");
  disk.mode = 0600;
  disk.rdev_major = major(host.st_dev);
  disk.rdev_minor = minor(host.st_dev);
  TarEntry null = Entry('c', "dev/null");
  null.rdev_major = 1;
  null.rdev_minor = 3;
  auto pulled = PullCrafted("devices", {Entry('d', "dev"), disk, null});
  ASSERT_TRUE(pulled.ok()) << pulled.status();

  struct stat st {};
  std::string node = JoinPath(pulled->snapshot_dirs[0], "dev/disk");
  ASSERT_EQ(::lstat(node.c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, host.st_dev);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_TRUE(store_->Remove(pulled->id).ok());
  ExpectHostUntouched();
}

TEST_F(UnpackSafetyTest, FifoAndDeviceLinksAreContained) {
  // A file entry over a fifo, and a hardlink with a body onto a fifo and onto a device node:
  // opening either for writing would block the pull (fifo) or write to a device. The file
  // replaces the fifo; the bodies are never written through the links.
  TarEntry over = Entry('f', "fifo", "replaces the fifo");
  TarEntry onto_fifo = Entry('h', "fifo-link", "other-fifo");
  onto_fifo.data = "body for a fifo";
  TarEntry null = Entry('c', "null");
  null.rdev_major = 1;
  null.rdev_minor = 3;
  TarEntry onto_device = Entry('h', "null-link", "null");
  onto_device.data = "body for a device";
  std::vector<TarEntry> entries = {Entry('p', "fifo"), over, Entry('p', "other-fifo"),
                                   onto_fifo, null, onto_device};

  auto pulled = std::async(std::launch::async,
                           [this, &entries] { return PullCrafted("fifo", entries); });
  if (pulled.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    // Unblock the writer so the test can end, then fail.
    std::string fs = JoinPath(root_, "snapshots");
    ADD_FAILURE() << "the pull blocked on a fifo";
    for (const std::string& dir : ListDir(fs)) {
      int fd = ::open(JoinPath(fs, dir + "/fs/other-fifo").c_str(), O_RDONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
    }
  }
  auto result = pulled.get();
  if (result.ok()) {
    std::string fs = result->snapshot_dirs[0];
    auto replaced = ReadFile(JoinPath(fs, "fifo"));
    ASSERT_TRUE(replaced.ok()) << replaced.status();
    EXPECT_EQ(*replaced, "replaces the fifo");
    struct stat st {};
    ASSERT_EQ(::lstat(JoinPath(fs, "other-fifo").c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    ASSERT_EQ(::lstat(JoinPath(fs, "null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    ASSERT_TRUE(store_->Remove(result->id).ok());
  } else {
    EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
    RecordProperty("fifo_trick", result.status().ToString());
  }
  ExpectHostUntouched();
}

}  // namespace
}  // namespace berth::image
