#include "runtime/linux/cgroups_systemd.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(ExpandSystemdSlice, NestsByDashes) {
  EXPECT_EQ(*ExpandSystemdSlice("kubepods.slice"), "/kubepods.slice");
  EXPECT_EQ(*ExpandSystemdSlice("kubepods-burstable-pod12.slice"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice");
  EXPECT_EQ(*ExpandSystemdSlice("-.slice"), "/");
}

TEST(ExpandSystemdSlice, RejectsMalformedNames) {
  for (const std::string& name :
       std::vector<std::string>{"kubepods", ".slice", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "../x.slice"}) {
    EXPECT_EQ(ExpandSystemdSlice(name).status().code(), absl::StatusCode::kInvalidArgument)
        << name;
  }
}

TEST(SystemdCgroupsPath, ScopeInsideSlice) {
  EXPECT_EQ(*SystemdCgroupsPath("kubepods-besteffort-pod1.slice:cri-containerd:abc"),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
            "cri-containerd-abc.scope");
  EXPECT_EQ(*SystemdCgroupsPath(":berth:abc"), "/system.slice/berth-abc.scope");
  EXPECT_EQ(*SystemdCgroupsPath("-.slice::abc"), "/abc.scope");
  EXPECT_EQ(*SystemdCgroupsPath("kubepods.slice:x:kubepods-pod2.slice"),
            "/kubepods.slice/kubepods-pod2.slice");
}

TEST(SystemdCgroupsPath, RejectsEscapes) {
  for (const std::string& path :
       std::vector<std::string>{"a.slice:b", "a.slice:b:c:d", "a.slice:p:../x", "a.slice:p:x/y", "a.slice:../p:x",
        "a.slice:p:", "bad:p:x"}) {
    EXPECT_EQ(SystemdCgroupsPath(path).status().code(), absl::StatusCode::kInvalidArgument)
        << path;
  }
}

TEST(CgroupfsPath, ConvertsOnlySystemdNotation) {
  EXPECT_EQ(*CgroupfsPath("/berth/pod/ctr"), "/berth/pod/ctr");
  EXPECT_EQ(*CgroupfsPath("berth-pod1.slice"), "/berth.slice/berth-pod1.slice");
  EXPECT_EQ(*CgroupfsPath("berth-pod1.slice:berth:c1"),
            "/berth.slice/berth-pod1.slice/berth-c1.scope");
  EXPECT_FALSE(IsSystemdCgroupsPath("/a.slice"));
  EXPECT_FALSE(IsSystemdCgroupsPath("berth/pod"));
  EXPECT_TRUE(IsSystemdCgroupsPath("x.slice"));
}

}  // namespace
}  // namespace berth::runtime
