// Unpacking needs root: it sets owners, makes whiteout devices and trusted.* xattrs.
#include "image/unpack.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/file.h"
#include "e2e/support/test_image.h"
#include "temp_dir.h"

namespace berth::image {
namespace {

using e2e::LayerBuilder;
using e2e::TestLayer;

class UnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_FALSE(temp_.path().empty());
    fs_ = temp_.Sub("fs");
    ASSERT_TRUE(MakeDirs(fs_).ok());
  }

  absl::Status Unpack(const LayerBuilder& builder, bool gzip = true) {
    auto layer = builder.Build(gzip);
    if (!layer.ok()) return layer.status();
    std::string blob = temp_.Sub("blob");
    absl::Status written = WriteFile(blob, layer->blob.data);
    if (!written.ok()) return written;
    return UnpackLayer(blob, fs_, layer->diff_id, "layer test");
  }

  struct stat Lstat(const std::string& relative) {
    struct stat st {};
    EXPECT_EQ(::lstat(JoinPath(fs_, relative).c_str(), &st), 0) << relative;
    return st;
  }

  std::string Xattr(const std::string& relative, const char* name) {
    char value[256];
    ssize_t n = ::lgetxattr(JoinPath(fs_, relative).c_str(), name, value, sizeof(value));
    return n < 0 ? "<none>" : std::string(value, static_cast<size_t>(n));
  }

  TempDir temp_;
  std::string fs_;
};

TEST_F(UnpackTest, KeepsMetadata) {
  LayerBuilder builder;
  builder.Dir("bin")
      .File("bin/tool", "#!/bin/sh\n", 04755, 1000, 1001)
      .Xattr("user.note", "kept")
      .Symlink("bin/sh", "/bin/tool")
      .Hardlink("bin/tool2", "bin/tool")
      .Dir("private", 0700, 7, 8);
  ASSERT_TRUE(Unpack(builder).ok());

  struct stat tool = Lstat("bin/tool");
  EXPECT_EQ(tool.st_mode & 07777, 04755u);
  EXPECT_EQ(tool.st_uid, 1000u);
  EXPECT_EQ(tool.st_gid, 1001u);
  EXPECT_EQ(tool.st_mtime, 1700000000);
  EXPECT_EQ(tool.st_nlink, 2u);
  EXPECT_EQ(Lstat("bin/tool2").st_ino, tool.st_ino);
  EXPECT_EQ(Xattr("bin/tool", "user.note"), "kept");
  EXPECT_EQ(*ReadFile(JoinPath(fs_, "bin/tool")), "#!/bin/sh\n");

  EXPECT_TRUE(S_ISLNK(Lstat("bin/sh").st_mode));
  char target[64] = {};
  ASSERT_GT(::readlink(JoinPath(fs_, "bin/sh").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "/bin/tool");

  struct stat dir = Lstat("private");
  EXPECT_EQ(dir.st_mode & 07777, 0700u);
  EXPECT_EQ(dir.st_uid, 7u);
  EXPECT_EQ(dir.st_mtime, 1700000000);
}

TEST_F(UnpackTest, UncompressedLayer) {
  LayerBuilder builder;
  builder.File("a", "plain");
  ASSERT_TRUE(Unpack(builder, /*gzip=*/false).ok());
  EXPECT_EQ(*ReadFile(JoinPath(fs_, "a")), "plain");
}

TEST_F(UnpackTest, ConvertsWhiteouts) {
  LayerBuilder builder;
  builder.Dir("etc").Whiteout("etc/passwd").Whiteout("gone").Opaque("etc").Whiteout("new/dir/x");
  ASSERT_TRUE(Unpack(builder).ok());

  for (const char* path : {"etc/passwd", "gone", "new/dir/x"}) {
    SCOPED_TRACE(path);
    struct stat st = Lstat(path);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
  }
  EXPECT_FALSE(PathExists(JoinPath(fs_, "etc/.wh.passwd")));
  EXPECT_FALSE(PathExists(JoinPath(fs_, "etc/.wh..wh..opq")));
  EXPECT_EQ(Xattr("etc", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(Xattr("new", "trusted.overlay.opaque"), "<none>");
}

TEST_F(UnpackTest, DropsOverlayXattrsFromLayer) {
  LayerBuilder builder;
  builder.Dir("d").Xattr("trusted.overlay.opaque", "y").Xattr("user.keep", "1");
  ASSERT_TRUE(Unpack(builder).ok());
  EXPECT_EQ(Xattr("d", "trusted.overlay.opaque"), "<none>");
  EXPECT_EQ(Xattr("d", "user.keep"), "1");
}

TEST_F(UnpackTest, RejectsDotDotAndAbsolutePaths) {
  for (const std::string bad : {"../escape", "a/../../escape", "/escape"}) {
    SCOPED_TRACE(bad);
    LayerBuilder builder;
    builder.Raw('f', bad, "x");
    absl::Status status = Unpack(builder);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  }
  EXPECT_FALSE(PathExists(temp_.Sub("escape")));
  EXPECT_FALSE(PathExists("/escape"));
}

TEST_F(UnpackTest, NeverWritesThroughSymlinks) {
  std::string outside = temp_.Sub("outside");
  ASSERT_TRUE(MakeDirs(outside).ok());

  LayerBuilder file_through_link;
  file_through_link.Symlink("link", outside).File("link/pwned", "x");
  absl::Status through = Unpack(file_through_link);
  EXPECT_FALSE(through.ok());
  EXPECT_NE(std::string(through.message()).find("symlink"), std::string::npos) << through;

  LayerBuilder whiteout_through_link;
  whiteout_through_link.Symlink("link2", outside).Whiteout("link2/victim");
  absl::Status whiteout = Unpack(whiteout_through_link);
  EXPECT_FALSE(whiteout.ok());
  EXPECT_NE(std::string(whiteout.message()).find("symlink"), std::string::npos) << whiteout;

  LayerBuilder opaque_through_link;
  opaque_through_link.Symlink("link3", outside).Opaque("link3");
  EXPECT_FALSE(Unpack(opaque_through_link).ok());

  LayerBuilder hardlink_out;
  hardlink_out.Raw('h', "h", "../outside/secret");
  EXPECT_FALSE(Unpack(hardlink_out).ok());

  EXPECT_FALSE(PathExists(JoinPath(outside, "pwned")));
  EXPECT_FALSE(PathExists(JoinPath(outside, "victim")));
  char value[8];
  EXPECT_LT(::getxattr(outside.c_str(), "trusted.overlay.opaque", value, sizeof(value)), 0);
}

TEST_F(UnpackTest, DiffIdMismatchIsDataLoss) {
  auto layer = LayerBuilder().File("a", "x").Build();
  ASSERT_TRUE(layer.ok());
  std::string blob = temp_.Sub("blob");
  ASSERT_TRUE(WriteFile(blob, layer->blob.data).ok());
  std::string wrong = "sha256:" + std::string(64, '0');
  absl::Status status = UnpackLayer(blob, fs_, wrong, "layer test");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  std::string message(status.message());
  EXPECT_NE(message.find(wrong), std::string::npos) << message;
  EXPECT_NE(message.find(layer->diff_id), std::string::npos) << message;
}

TEST_F(UnpackTest, GarbageBlobFails) {
  std::string blob = temp_.Sub("blob");
  ASSERT_TRUE(WriteFile(blob, std::string(1000, 'z')).ok());
  EXPECT_FALSE(UnpackLayer(blob, fs_, "sha256:" + std::string(64, '0'), "layer").ok());
}

}  // namespace
}  // namespace berth::image
