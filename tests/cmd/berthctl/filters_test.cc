#include "cmd/berthctl/filters.h"

#include <gtest/gtest.h>

namespace berth::ctl {
namespace {

TEST(ParseLabelSelectorTest, ReadsKeyValuePairs) {
  absl::StatusOr<std::map<std::string, std::string>> selector =
      ParseLabelSelector({"app=web", "tier=", "expr=a=b"});
  ASSERT_TRUE(selector.ok());
  EXPECT_EQ(*selector, (std::map<std::string, std::string>{
                           {"app", "web"}, {"tier", ""}, {"expr", "a=b"}}));
  EXPECT_FALSE(ParseLabelSelector({"novalue"}).ok());
  EXPECT_FALSE(ParseLabelSelector({"=x"}).ok());
}

TEST(ParseStateTest, AcceptsShortAndCriNames) {
  EXPECT_EQ(*ParsePodState("Ready"), runtime::v1::SANDBOX_READY);
  EXPECT_EQ(*ParsePodState("notready"), runtime::v1::SANDBOX_NOTREADY);
  EXPECT_EQ(*ParsePodState("SANDBOX_NOTREADY"), runtime::v1::SANDBOX_NOTREADY);
  EXPECT_FALSE(ParsePodState("running").ok());
  EXPECT_EQ(*ParseContainerState("running"), runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(*ParseContainerState("CONTAINER_EXITED"), runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(*ParseContainerState("Created"), runtime::v1::CONTAINER_CREATED);
  EXPECT_FALSE(ParseContainerState("ready").ok());
}

TEST(NameMatcherTest, SearchesWithRegularExpressions) {
  absl::StatusOr<NameMatcher> any = NameMatcher::Create("", "name");
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(any->Matches("whatever"));
  absl::StatusOr<NameMatcher> web = NameMatcher::Create("^web-[0-9]+$", "name");
  ASSERT_TRUE(web.ok());
  EXPECT_TRUE(web->Matches("web-12"));
  EXPECT_FALSE(web->Matches("web-x"));
  absl::StatusOr<NameMatcher> part = NameMatcher::Create("eb", "name");
  EXPECT_TRUE(part->Matches("web"));
  absl::StatusOr<NameMatcher> bad = NameMatcher::Create("(", "namespace");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--namespace"), std::string::npos);
}

TEST(NewestFirstTest, SortsAndCuts) {
  std::vector<runtime::v1::PodSandbox> pods(4);
  for (int i = 0; i < 4; ++i) {
    pods[i].set_id(std::to_string(i));
    pods[i].set_created_at(i == 2 ? 100 : i);
  }
  std::vector<runtime::v1::PodSandbox> all = pods;
  NewestFirst(&all, false, 0);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].id(), "2");
  EXPECT_EQ(all[1].id(), "3");
  EXPECT_EQ(all[3].id(), "0");

  std::vector<runtime::v1::PodSandbox> last = pods;
  NewestFirst(&last, false, 2);
  ASSERT_EQ(last.size(), 2u);
  std::vector<runtime::v1::PodSandbox> latest = pods;
  NewestFirst(&latest, true, 3);
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].id(), "2");
}

TEST(ContainerUsesImageTest, MatchesReferenceOrIdPrefix) {
  runtime::v1::Container container;
  container.mutable_image()->set_image("docker.io/library/busybox:latest");
  container.set_image_ref("sha256:" + std::string(64, 'a'));
  container.set_image_id("sha256:" + std::string(64, 'a'));
  EXPECT_TRUE(ContainerUsesImage(container, ""));
  EXPECT_TRUE(ContainerUsesImage(container, "docker.io/library/busybox:latest"));
  EXPECT_TRUE(ContainerUsesImage(container, "aaaa"));
  EXPECT_TRUE(ContainerUsesImage(container, "sha256:aaaa"));
  EXPECT_FALSE(ContainerUsesImage(container, "bbbb"));
  EXPECT_FALSE(ContainerUsesImage(container, "busybox"));
}

}  // namespace
}  // namespace berth::ctl
