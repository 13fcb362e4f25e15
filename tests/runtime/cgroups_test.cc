#include "runtime/linux/cgroups.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

constexpr char kHybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 31 0:32 / /mnt/again rw,relatime - cgroup cgroup rw,memory\n";

constexpr char kV1[] =
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n";

constexpr char kV2[] =
    "25 1 0:22 / / rw - ext4 /dev/vda rw\n"
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

TEST(CgroupsTest, ParsesHybridLayout) {
  auto layout = ParseCgroupLayout(kHybrid);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->mode, CgroupMode::kHybrid);
  ASSERT_EQ(layout->hierarchies.size(), 5u) << "the second memory mount is the same hierarchy";
  EXPECT_EQ(layout->hierarchies[3].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_TRUE(layout->hierarchies[4].unified);
}

TEST(CgroupsTest, PathsOnHybrid) {
  auto layout = ParseCgroupLayout(kHybrid);
  ASSERT_TRUE(layout.ok());
  auto dirs = CgroupDirsFor(*layout, "berth/pod1/c1");
  ASSERT_TRUE(dirs.ok()) << dirs.status();
  std::vector<std::string> paths;
  for (const CgroupDir& dir : *dirs) paths.push_back(dir.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "/sys/fs/cgroup/cpu/berth/pod1/c1", "/sys/fs/cgroup/memory/berth/pod1/c1",
                       "/sys/fs/cgroup/pids/berth/pod1/c1", "/sys/fs/cgroup/systemd/berth/pod1/c1",
                       "/sys/fs/cgroup/unified/berth/pod1/c1"}));
  EXPECT_EQ((*dirs)[4].name, "unified");
}

TEST(CgroupsTest, PathsOnV1AndV2) {
  auto v1 = ParseCgroupLayout(kV1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->mode, CgroupMode::kV1);
  auto v1_dirs = CgroupDirsFor(*v1, "/berth/c1");
  ASSERT_TRUE(v1_dirs.ok());
  EXPECT_EQ((*v1_dirs)[0].path, "/sys/fs/cgroup/cpu,cpuacct/berth/c1");
  EXPECT_EQ((*v1_dirs)[0].name, "cpu,cpuacct");

  auto v2 = ParseCgroupLayout(kV2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->mode, CgroupMode::kV2);
  auto v2_dirs = CgroupDirsFor(*v2, "/berth/c1");
  ASSERT_TRUE(v2_dirs.ok());
  ASSERT_EQ(v2_dirs->size(), 1u);
  EXPECT_EQ((*v2_dirs)[0].path, "/sys/fs/cgroup/berth/c1");
}

TEST(CgroupsTest, RejectsBadPaths) {
  auto layout = ParseCgroupLayout(kV2);
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(CgroupDirsFor(*layout, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CgroupDirsFor(*layout, "/berth/../etc").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCgroupLayout("25 1 0:22 / / rw - ext4 /dev/vda rw\n").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CgroupsTest, MountRootIsStripped) {
  auto layout = ParseCgroupLayout("30 25 0:26 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(layout.ok());
  auto dirs = CgroupDirsFor(*layout, "/kubepods/pod1");
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ((*dirs)[0].path, "/sys/fs/cgroup/pod1");
}

Resources SampleResources() {
  Resources resources;
  resources.memory.limit = 64 << 20;
  resources.cpu.shares = 512;
  resources.cpu.quota = 50000;
  resources.cpu.period = 100000;
  resources.pids.limit = 100;
  return resources;
}

TEST(CgroupsTest, V1ResourceWrites) {
  auto layout = ParseCgroupLayout(kHybrid);
  ASSERT_TRUE(layout.ok());
  auto dirs = CgroupDirsFor(*layout, "/b/c");
  ASSERT_TRUE(dirs.ok());
  auto writes = PlanResourceWrites(*layout, *dirs, SampleResources(), {});
  std::vector<std::string> lines;
  for (const CgroupWrite& write : writes) lines.push_back(write.path + "=" + write.value);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"/sys/fs/cgroup/cpu/b/c/cpu.shares=512",
                                      "/sys/fs/cgroup/cpu/b/c/cpu.cfs_period_us=100000",
                                      "/sys/fs/cgroup/cpu/b/c/cpu.cfs_quota_us=50000",
                                      "/sys/fs/cgroup/memory/b/c/memory.limit_in_bytes=67108864",
                                      "/sys/fs/cgroup/pids/b/c/pids.max=100"}));
}

TEST(CgroupsTest, V1DevicesDenyThenAllow) {
  auto layout = ParseCgroupLayout(kV1);
  ASSERT_TRUE(layout.ok());
  auto dirs = CgroupDirsFor(*layout, "/b/c");
  ASSERT_TRUE(dirs.ok());
  auto writes = PlanResourceWrites(*layout, *dirs, {}, DefaultDevices());
  ASSERT_GE(writes.size(), 2u);
  EXPECT_EQ(writes[0].path, "/sys/fs/cgroup/devices/b/c/devices.deny");
  EXPECT_EQ(writes[0].value, "a");
  EXPECT_EQ(writes.back().value, "c 5:0 rwm");
}

TEST(CgroupsTest, V2ResourceWrites) {
  auto layout = ParseCgroupLayout(kV2);
  ASSERT_TRUE(layout.ok());
  auto dirs = CgroupDirsFor(*layout, "/b/c");
  ASSERT_TRUE(dirs.ok());
  auto writes = PlanResourceWrites(*layout, *dirs, SampleResources(), DefaultDevices());
  std::vector<std::string> lines;
  for (const CgroupWrite& write : writes) lines.push_back(write.path + "=" + write.value);
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "/sys/fs/cgroup/b/c/memory.max=67108864", "/sys/fs/cgroup/b/c/cpu.weight=20",
                "/sys/fs/cgroup/b/c/cpu.max=50000 100000", "/sys/fs/cgroup/b/c/pids.max=100"}));
}

}  // namespace
}  // namespace berth::runtime
