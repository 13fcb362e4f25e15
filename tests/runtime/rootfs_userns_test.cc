// PrepareRootfs for a container in a user namespace, where bind sources are detached mount trees
// that are moved into place and the root is already a mount point.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <string>

#include "recording_syscalls.h"
#include "runtime/linux/rootfs.h"

namespace berth::runtime {
namespace {

class RootfsUsernsTest : public ::testing::Test {
 protected:
  RootfsUsernsTest() {
    spec_ = BaseSpec();
    spec_.process.args = {"/bin/sh"};
    spec_.root.path = "/r";
    spec_.mounts.clear();
    options_.spec = &spec_;
    options_.root = "/r";
  }

  bool Called(const std::string& call) const {
    return std::find(sys_.calls.begin(), sys_.calls.end(), call) != sys_.calls.end();
  }

  Spec spec_;
  RootfsOptions options_;
  RecordingSyscalls sys_;
};

TEST_F(RootfsUsernsTest, BindTreeIsMovedNotBound) {
  spec_.mounts.push_back({"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}});
  spec_.mounts.push_back({"/data", "bind", "/proc/self/fd/7", {"rbind", "rw"}});
  spec_.mounts.push_back({"/etc/hosts", "bind", "/pod/hosts", {"rbind"}});
  sys_.files["/proc/self/fd/7"] = FileKind::kDirectory;
  sys_.files["/pod/hosts"] = FileKind::kFile;
  options_.bind_trees = {{1, 7}};
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());

  // The tree of index 1 is moved onto its resolved destination, and not bound as a path.
  EXPECT_TRUE(Called("move_mount 7 /r/data"));
  EXPECT_TRUE(sys_.MountsOn("/r/data").empty());
  auto resolve = std::find(sys_.calls.begin(), sys_.calls.end(), "resolve /r/data dir");
  auto move = std::find(sys_.calls.begin(), sys_.calls.end(), "move_mount 7 /r/data");
  EXPECT_LT(resolve, move) << "the destination is made before the move";

  // A bind without a tree is still a bind of its source.
  auto hosts = sys_.MountsOn("/r/etc/hosts");
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].source, "/pod/hosts");
  EXPECT_EQ(hosts[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(std::count_if(sys_.calls.begin(), sys_.calls.end(),
                          [](const std::string& c) { return c.rfind("move_mount", 0) == 0; }),
            1);
}

TEST_F(RootfsUsernsTest, MovedTreeRemountedReadOnly) {
  spec_.mounts.push_back({"/config", "bind", "/proc/self/fd/9", {"rbind", "ro", "nosuid"}});
  sys_.files["/proc/self/fd/9"] = FileKind::kFile;
  options_.bind_trees = {{0, 9}};
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());

  EXPECT_TRUE(Called("move_mount 9 /r/config"));
  EXPECT_TRUE(Called("resolve /r/config file"));
  auto config = sys_.MountsOn("/r/config");
  ASSERT_EQ(config.size(), 1u) << "only the remount is a mount(2) call";
  EXPECT_EQ(config[0].flags,
            static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID));
}

TEST_F(RootfsUsernsTest, MovedTreeSourceMustExist) {
  spec_.mounts.push_back({"/data", "bind", "/proc/self/fd/11", {"rbind"}});
  options_.bind_trees = {{0, 11}};
  absl::Status status = PrepareRootfs(sys_, options_);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("mount bind on /data"), std::string::npos) << status;
  EXPECT_FALSE(Called("move_mount 11 /r/data"));
}

TEST_F(RootfsUsernsTest, RootMountedSkipsSelfBind) {
  options_.root_mounted = true;
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  EXPECT_TRUE(sys_.MountsOn("/r").empty());
  ASSERT_FALSE(sys_.mounts.empty());
  EXPECT_EQ(sys_.mounts[0].target, "/");
  EXPECT_EQ(sys_.mounts[0].flags, static_cast<unsigned long>(MS_REC | MS_PRIVATE));
  EXPECT_EQ(sys_.calls.back(), "pivot_root /r");
}

TEST_F(RootfsUsernsTest, RootNotMountedIsSelfBound) {
  ASSERT_TRUE(PrepareRootfs(sys_, options_).ok());
  auto self = sys_.MountsOn("/r");
  ASSERT_EQ(self.size(), 1u);
  EXPECT_EQ(self[0].source, "/r");
  EXPECT_EQ(self[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
}

}  // namespace
}  // namespace berth::runtime
