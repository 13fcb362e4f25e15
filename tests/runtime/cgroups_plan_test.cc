// Resource plans on fake cgroup trees: v1, v2 and the hybrid of both, written into a temporary
// folder so no real cgroup is touched.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "base/file.h"
#include "runtime/linux/cgroups.h"

namespace berth::runtime {
namespace {

class FakeCgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = "/tmp/berth-cgroup-test-XXXXXX";
    ASSERT_NE(::mkdtemp(root_.data()), nullptr);
  }
  void TearDown() override { (void)RemoveAll(root_); }

  // Adds a hierarchy mounted at <root>/<name> and creates the container's folder in it.
  CgroupDir AddHierarchy(CgroupLayout& layout, const std::string& name,
                         std::vector<std::string> controllers, bool unified = false) {
    CgroupHierarchy hierarchy;
    hierarchy.mount_point = JoinPath(root_, name);
    hierarchy.root = "/";
    hierarchy.controllers = controllers;
    hierarchy.unified = unified;
    layout.hierarchies.push_back(hierarchy);
    CgroupDir dir{JoinPath(hierarchy.mount_point, "pod/ctr"), name, controllers, unified};
    EXPECT_TRUE(MakeDirs(dir.path).ok());
    return dir;
  }

  std::vector<std::string> Lines(const std::vector<CgroupWrite>& writes) {
    std::vector<std::string> lines;
    for (const CgroupWrite& write : writes) {
      std::string path = write.path.substr(root_.size() + 1);
      lines.push_back(path + "=" + write.value + (write.may_fail ? " (may fail)" : ""));
    }
    return lines;
  }

  std::string root_;
};

Resources FullResources() {
  Resources resources;
  resources.memory.limit = 64 << 20;
  resources.memory.swap = 96 << 20;
  resources.cpu.shares = 1024;
  resources.cpu.quota = 20000;
  resources.cpu.period = 100000;
  resources.cpu.cpus = "0";
  resources.cpu.mems = "0";
  resources.pids.limit = 50;
  resources.hugepage_limits = {{"2MB", 4 << 20}};
  return resources;
}

TEST_F(FakeCgroupTree, V1WritesEveryController) {
  CgroupLayout layout;
  layout.mode = CgroupMode::kV1;
  std::vector<CgroupDir> dirs = {
      AddHierarchy(layout, "cpu", {"cpu"}),         AddHierarchy(layout, "cpuset", {"cpuset"}),
      AddHierarchy(layout, "memory", {"memory"}),   AddHierarchy(layout, "hugetlb", {"hugetlb"}),
      AddHierarchy(layout, "pids", {"pids"}),
  };
  ASSERT_TRUE(WriteFile(JoinPath(dirs[2].path, "memory.memsw.limit_in_bytes"), "max").ok());

  EXPECT_EQ(Lines(PlanResourceUpdate(layout, dirs, FullResources())),
            (std::vector<std::string>{
                "cpu/pod/ctr/cpu.shares=1024",
                "cpu/pod/ctr/cpu.cfs_period_us=100000",
                "cpu/pod/ctr/cpu.cfs_quota_us=20000",
                "cpuset/pod/ctr/cpuset.cpus=0",
                "cpuset/pod/ctr/cpuset.mems=0",
                "memory/pod/ctr/memory.memsw.limit_in_bytes=100663296 (may fail)",
                "memory/pod/ctr/memory.limit_in_bytes=67108864",
                "memory/pod/ctr/memory.memsw.limit_in_bytes=100663296",
                "hugetlb/pod/ctr/hugetlb.2MB.limit_in_bytes=4194304",
                "pids/pod/ctr/pids.max=50",
            }));
}

TEST_F(FakeCgroupTree, V1WithoutSwapAccountingSkipsSwap) {
  CgroupLayout layout;
  layout.mode = CgroupMode::kV1;
  std::vector<CgroupDir> dirs = {AddHierarchy(layout, "memory", {"memory"})};
  EXPECT_EQ(Lines(PlanResourceUpdate(layout, dirs, FullResources())),
            (std::vector<std::string>{"memory/pod/ctr/memory.limit_in_bytes=67108864"}));
}

TEST_F(FakeCgroupTree, V2WritesUnifiedFiles) {
  CgroupLayout layout;
  layout.mode = CgroupMode::kV2;
  std::vector<CgroupDir> dirs = {AddHierarchy(layout, "unified", {}, true)};
  Resources resources = FullResources();
  resources.unified = {{"memory.high", "50331648"}};

  EXPECT_EQ(Lines(PlanResourceWrites(layout, dirs, resources, DefaultDevices())),
            (std::vector<std::string>{
                "unified/pod/ctr/memory.max=67108864",
                "unified/pod/ctr/memory.swap.max=33554432",
                "unified/pod/ctr/cpu.weight=39",
                "unified/pod/ctr/cpu.max=20000 100000",
                "unified/pod/ctr/cpuset.cpus=0",
                "unified/pod/ctr/cpuset.mems=0",
                "unified/pod/ctr/hugetlb.2MB.max=4194304",
                "unified/pod/ctr/pids.max=50",
                "unified/pod/ctr/memory.high=50331648",
            }));
}

TEST_F(FakeCgroupTree, V2UnlimitedValuesAreMax) {
  CgroupLayout layout;
  layout.mode = CgroupMode::kV2;
  std::vector<CgroupDir> dirs = {AddHierarchy(layout, "unified", {}, true)};
  Resources resources;
  resources.memory.swap = -1;
  resources.cpu.quota = -1;
  resources.pids.limit = 0;
  EXPECT_EQ(Lines(PlanResourceUpdate(layout, dirs, resources)),
            (std::vector<std::string>{"unified/pod/ctr/memory.swap.max=max",
                                      "unified/pod/ctr/cpu.max=max 100000",
                                      "unified/pod/ctr/pids.max=max"}));
}

TEST_F(FakeCgroupTree, HybridSendsHugetlbToCgroup2) {
  CgroupLayout layout;
  layout.mode = CgroupMode::kHybrid;
  std::vector<CgroupDir> dirs = {AddHierarchy(layout, "pids", {"pids"}),
                                 AddHierarchy(layout, "unified", {}, true)};
  Resources resources;
  resources.pids.limit = 7;
  resources.hugepage_limits = {{"1GB", 0}};
  EXPECT_EQ(Lines(PlanResourceUpdate(layout, dirs, resources)),
            (std::vector<std::string>{"pids/pod/ctr/pids.max=7",
                                      "unified/pod/ctr/hugetlb.1GB.max=0"}));
}

TEST_F(FakeCgroupTree, ApplySkipsOnlyWritesThatMayFail) {
  std::string missing = JoinPath(root_, "no/such/file");
  std::string present = JoinPath(root_, "value");
  EXPECT_TRUE(ApplyCgroupWrites({{missing, "1", true}, {present, "2"}}).ok());
  EXPECT_EQ(*ReadFile(present), "2");
  absl::Status failed = ApplyCgroupWrites({{missing, "3"}});
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("no/such/file"), std::string::npos) << failed;
}

TEST(CgroupSharesToWeight, MatchesTheKubeletFormula) {
  EXPECT_EQ(CpuSharesToWeight(2), 1u);
  EXPECT_EQ(CpuSharesToWeight(1024), 39u);
  EXPECT_EQ(CpuSharesToWeight(262144), 10000u);
  EXPECT_EQ(CpuSharesToWeight(1), 1u);
}

TEST(ValidateResources, RejectsPathsInUnifiedKeys) {
  for (const std::string& key :
       std::vector<std::string>{"../../memory.max", "memory.max/x", "cgroup.procs", "cgroup.subtree_control", "nodot",
        ".", ".hidden", ""}) {
    Resources resources;
    resources.unified[key] = "1";
    absl::Status status = ValidateResources(resources);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << key;
  }
  Resources good;
  good.unified["memory.high"] = "max";
  EXPECT_TRUE(ValidateResources(good).ok());
  good.unified["memory.high"] = "1\ncgroup.procs";
  EXPECT_FALSE(ValidateResources(good).ok());
}

TEST(ValidateResources, ChecksPageSizesAndCpusets) {
  Resources bad_size;
  bad_size.hugepage_limits = {{"2MB/../x", 1}};
  EXPECT_FALSE(ValidateResources(bad_size).ok());
  Resources bad_cpus;
  bad_cpus.cpu.cpus = "0-1\n";
  EXPECT_FALSE(ValidateResources(bad_cpus).ok());
  Resources good;
  good.hugepage_limits = {{"2MB", 1}, {"1GB", 2}, {"64KB", 3}};
  good.cpu.cpus = "0-3,5";
  good.cpu.mems = "0";
  EXPECT_TRUE(ValidateResources(good).ok());
}

TEST(ValidateResourcesFor, UnifiedNeedsCgroup2) {
  Resources resources;
  resources.unified["memory.high"] = "1";
  CgroupLayout v1;
  v1.mode = CgroupMode::kV1;
  EXPECT_EQ(ValidateResourcesFor(v1, resources).code(), absl::StatusCode::kInvalidArgument);
  CgroupLayout hybrid;
  hybrid.mode = CgroupMode::kHybrid;
  EXPECT_TRUE(ValidateResourcesFor(hybrid, resources).ok());
}

}  // namespace
}  // namespace berth::runtime
