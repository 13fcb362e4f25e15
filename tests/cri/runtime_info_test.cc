#include "cri/runtime_info.h"

#include <gtest/gtest.h>

namespace berth::cri {
namespace {

TEST(RuntimeInfoTest, Version) {
  runtime::v1::VersionResponse version = MakeVersionResponse();
  EXPECT_EQ(version.runtime_name(), "berth");
  EXPECT_EQ(version.runtime_api_version(), "v1");
  EXPECT_EQ(version.version(), "0.1.0");
  EXPECT_EQ(version.runtime_version(), BerthVersion());
  EXPECT_FALSE(version.runtime_version().empty());
}

TEST(RuntimeInfoTest, StatusReportsNetworkCondition) {
  runtime::v1::StatusResponse status =
      MakeStatusResponse({false, "NetworkPluginNotReady", "no CNI config"});
  ASSERT_EQ(status.status().conditions_size(), 2);
  EXPECT_EQ(status.status().conditions(0).type(), "RuntimeReady");
  EXPECT_TRUE(status.status().conditions(0).status());
  EXPECT_EQ(status.status().conditions(1).type(), "NetworkReady");
  EXPECT_FALSE(status.status().conditions(1).status());
  EXPECT_EQ(status.status().conditions(1).reason(), "NetworkPluginNotReady");
  EXPECT_EQ(status.status().conditions(1).message(), "no CNI config");
  EXPECT_TRUE(status.info().empty());

  status = MakeStatusResponse({true, "", ""});
  EXPECT_TRUE(status.status().conditions(1).status());
  EXPECT_EQ(status.status().conditions(1).reason(), "");
}

TEST(RuntimeInfoTest, RuntimeConfigUsesCgroupfs) {
  EXPECT_EQ(MakeRuntimeConfigResponse().linux().cgroup_driver(), runtime::v1::CGROUPFS);
}

}  // namespace
}  // namespace berth::cri
