#include "cmd/berthctl/endpoint.h"

#include <gtest/gtest.h>

namespace berth::ctl {
namespace {

TEST(ChooseEndpointTest, FlagThenBerthThenCriThenDefault) {
  EXPECT_EQ(ChooseEndpoint("/a.sock", "/b.sock", "/c.sock"), "/a.sock");
  EXPECT_EQ(ChooseEndpoint("", "/b.sock", "/c.sock"), "/b.sock");
  EXPECT_EQ(ChooseEndpoint("", "", "/c.sock"), "/c.sock");
  EXPECT_EQ(ChooseEndpoint("", nullptr, nullptr), kDefaultEndpoint);
}

TEST(NormalizeEndpointTest, AcceptsUnixUrlsAndPaths) {
  EXPECT_EQ(*NormalizeEndpoint("unix:///run/berth/berth.sock"), "unix:///run/berth/berth.sock");
  EXPECT_EQ(*NormalizeEndpoint("/tmp/x/berth.sock"), "unix:///tmp/x/berth.sock");
  EXPECT_EQ(*NormalizeEndpoint("berth.sock"), "unix:berth.sock");
  EXPECT_EQ(*NormalizeEndpoint("unix:rel/berth.sock"), "unix:rel/berth.sock");
}

TEST(NormalizeEndpointTest, RejectsOtherForms) {
  EXPECT_EQ(NormalizeEndpoint("tcp://127.0.0.1:1234").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(NormalizeEndpoint("unix://relative.sock").ok());
  EXPECT_FALSE(NormalizeEndpoint("unix://").ok());
  EXPECT_FALSE(NormalizeEndpoint("").ok());
  EXPECT_FALSE(NormalizeEndpoint("/" + std::string(200, 'x')).ok());
}

}  // namespace
}  // namespace berth::ctl
