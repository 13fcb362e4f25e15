#include "runtime/linux/sysctl.h"

#include <gtest/gtest.h>

#include "runtime/spec.h"

namespace berth::runtime {
namespace {

TEST(SysctlNamespaceType, OnlyNamespacedKeys) {
  EXPECT_EQ(SysctlNamespaceType("net.ipv4.ip_forward"), "network");
  EXPECT_EQ(SysctlNamespaceType("kernel.shmmax"), "ipc");
  EXPECT_EQ(SysctlNamespaceType("kernel.shm_rmid_forced"), "ipc");
  EXPECT_EQ(SysctlNamespaceType("kernel.msgmax"), "ipc");
  EXPECT_EQ(SysctlNamespaceType("kernel.sem"), "ipc");
  EXPECT_EQ(SysctlNamespaceType("fs.mqueue.msg_max"), "ipc");
  EXPECT_EQ(SysctlNamespaceType("kernel.core_pattern"), "");
  EXPECT_EQ(SysctlNamespaceType("vm.overcommit_memory"), "");
  EXPECT_EQ(SysctlNamespaceType("kernel.semx"), "");
}

TEST(CheckSysctl, RejectsSmuggledAssignments) {
  for (const std::string& value :
       std::vector<std::string>{"1\nkernel.core_pattern=|/tmp/x", "1 kernel.core_pattern=x", "1;kernel.x=1", "1\r2",
        std::string("1\0x", 3), ""}) {
    EXPECT_EQ(CheckSysctl("net.ipv4.ip_forward", value).code(),
              absl::StatusCode::kInvalidArgument)
        << value;
  }
  EXPECT_TRUE(CheckSysctl("net.ipv4.ping_group_range", "0 2147483647").ok());
}

TEST(CheckSysctl, RejectsBadNames) {
  for (const std::string& key : std::vector<std::string>{"", "net..x", ".net", "net.", "net.ipv4/../../x", "net.//.x",
                                 "net./", "net.ipv4.x y", "net.ipv4.x=1"}) {
    EXPECT_EQ(CheckSysctl(key, "1").code(), absl::StatusCode::kInvalidArgument) << key;
  }
  EXPECT_TRUE(CheckSysctl("net.ipv4.conf.eth0/100.forwarding", "1").ok());
}

TEST(SysctlPath, SwapsDotsAndSlashes) {
  EXPECT_EQ(SysctlPath("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
  EXPECT_EQ(SysctlPath("net.ipv4.conf.eth0/100.forwarding"),
            "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
}

TEST(ValidateSpecSysctls, RefusesValueWithSecondKey) {
  Spec spec = BaseSpec();
  spec.process.args = {"/bin/true"};
  spec.root.path = "/tmp/rootfs";
  spec.linux.sysctl["net.ipv4.ip_forward"] = "1\nkernel.core_pattern=x";
  EXPECT_EQ(ValidateSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec.linux.sysctl["net.ipv4.ip_forward"] = "1";
  EXPECT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec);
}

}  // namespace
}  // namespace berth::runtime
