#include "pod/records.h"

#include <gtest/gtest.h>

#include "pod/names.h"

namespace berth::pod {
namespace {

TEST(SandboxRecord, JsonRoundTripKeepsConfig) {
  SandboxRecord record;
  record.id = "abc";
  record.config.mutable_metadata()->set_name("web");
  record.config.mutable_metadata()->set_namespace_("default");
  record.config.mutable_metadata()->set_uid("u1");
  record.config.set_hostname("web-0");
  (*record.config.mutable_labels())["app"] = "web";
  record.state = SandboxState::kReady;
  record.created_at = 1700000000123456789;
  record.netns_path = "/run/berth/netns/abc";
  record.pause_pid = 42;

  auto back = SandboxFromJson(ToJson(record));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, "abc");
  EXPECT_EQ(back->config.metadata().name(), "web");
  EXPECT_EQ(back->config.hostname(), "web-0");
  EXPECT_EQ(back->config.labels().at("app"), "web");
  EXPECT_EQ(back->state, SandboxState::kReady);
  EXPECT_EQ(back->created_at, 1700000000123456789);
  EXPECT_EQ(back->netns_path, "/run/berth/netns/abc");
  EXPECT_EQ(back->pause_pid, 42);
}

TEST(ContainerRecord, JsonRoundTripKeepsConfig) {
  ContainerRecord record;
  record.id = "c1";
  record.sandbox_id = "abc";
  record.config.mutable_metadata()->set_name("app");
  record.config.add_command("sh");
  record.image_id = "sha256:00";
  record.log_path = "/var/log/pods/x/app/0.log";

  auto back = ContainerFromJson(ToJson(record));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sandbox_id, "abc");
  EXPECT_EQ(back->config.command(0), "sh");
  EXPECT_EQ(back->log_path, "/var/log/pods/x/app/0.log");
}

TEST(SandboxRecord, MissingFieldNamesIt) {
  auto back = SandboxFromJson(nlohmann::json{{"id", "x"}});
  EXPECT_TRUE(absl::IsInvalidArgument(back.status()));
  EXPECT_NE(back.status().message().find("config"), absl::string_view::npos) << back.status();
}

TEST(NameRegistry, SecondOwnerGetsExistingId) {
  NameRegistry names;
  ASSERT_TRUE(names.Reserve("web_default_u1_0", "id1").ok());
  EXPECT_TRUE(names.Reserve("web_default_u1_0", "id1").ok());
  absl::Status second = names.Reserve("web_default_u1_0", "id2");
  EXPECT_TRUE(absl::IsAlreadyExists(second));
  EXPECT_NE(second.message().find("id1"), absl::string_view::npos);
  names.Release("web_default_u1_0", "id2");
  EXPECT_FALSE(names.Reserve("web_default_u1_0", "id2").ok());
  names.Release("web_default_u1_0", "id1");
  EXPECT_TRUE(names.Reserve("web_default_u1_0", "id2").ok());
}

TEST(Names, SandboxAndContainerNamesCarryMetadata) {
  ::runtime::v1::PodSandboxMetadata pod;
  pod.set_name("web");
  pod.set_namespace_("ns");
  pod.set_uid("u1");
  pod.set_attempt(2);
  ::runtime::v1::ContainerMetadata container;
  container.set_name("app");
  container.set_attempt(1);
  EXPECT_EQ(SandboxName(pod), "web_ns_u1_2");
  EXPECT_EQ(ContainerName(container, pod), "app_web_ns_u1_1");
}

}  // namespace
}  // namespace berth::pod
