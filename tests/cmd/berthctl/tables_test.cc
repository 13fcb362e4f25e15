#include "cmd/berthctl/tables.h"

#include <gtest/gtest.h>

namespace berth::ctl {
namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kNow = 1700000000 * kSecond;

TEST(RenderTableTest, PadsEveryColumnButTheLast) {
  const std::string table = RenderTable({{"A", "B", "C"}, {"x", std::string(25, 'y'), "z"}});
  EXPECT_EQ(table, "A" + std::string(19, ' ') + "B" + std::string(27, ' ') + "C\n" +  //
                       "x" + std::string(19, ' ') + std::string(25, 'y') + "   z\n");
}

TEST(HumanSizeTest, UsesDecimalUnitsAndThreeDigits) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(512), "512B");
  EXPECT_EQ(HumanSize(1000), "1kB");
  EXPECT_EQ(HumanSize(1458000), "1.46MB");
  EXPECT_EQ(HumanSize(72800000), "72.8MB");
  EXPECT_EQ(HumanSize(3000000000ULL), "3GB");
}

TEST(HumanDurationTest, ReadsLikeCrictl) {
  EXPECT_EQ(HumanDuration(0), "Less than a second");
  EXPECT_EQ(HumanDuration(-5 * kSecond), "Less than a second");
  EXPECT_EQ(HumanDuration(1 * kSecond), "1 second");
  EXPECT_EQ(HumanDuration(42 * kSecond), "42 seconds");
  EXPECT_EQ(HumanDuration(90 * kSecond), "About a minute");
  EXPECT_EQ(HumanDuration(5 * 60 * kSecond), "5 minutes");
  EXPECT_EQ(HumanDuration(61 * 60 * kSecond), "About an hour");
  EXPECT_EQ(HumanDuration(5 * 3600 * kSecond), "5 hours");
  EXPECT_EQ(HumanDuration(3 * 86400 * kSecond), "3 days");
  EXPECT_EQ(HumanDuration(21 * 86400 * kSecond), "3 weeks");
  EXPECT_EQ(HumanDuration(90 * 86400 * kSecond), "3 months");
  EXPECT_EQ(HumanDuration(800 * 86400 * kSecond), "2 years");
  EXPECT_EQ(CreatedAgo(kNow - 42 * kSecond, kNow), "42 seconds ago");
}

TEST(ShortIdTest, CutsAndStripsDigestPrefix) {
  const std::string id(64, 'a');
  EXPECT_EQ(ShortId(id, false), std::string(13, 'a'));
  EXPECT_EQ(ShortId("sha256:" + id, false), std::string(13, 'a'));
  EXPECT_EQ(ShortId("sha256:" + id, true), "sha256:" + id);
  EXPECT_EQ(ShortId("abc", false), "abc");
}

TEST(SplitRepoTagTest, SplitsAtTheTagColon) {
  EXPECT_EQ(SplitRepoTag("docker.io/library/busybox:1.36"),
            (std::pair<std::string, std::string>{"docker.io/library/busybox", "1.36"}));
  EXPECT_EQ(SplitRepoTag("localhost:5000/busybox:latest"),
            (std::pair<std::string, std::string>{"localhost:5000/busybox", "latest"}));
  EXPECT_EQ(SplitRepoTag("localhost:5000/busybox"),
            (std::pair<std::string, std::string>{"localhost:5000/busybox", "<none>"}));
}

TEST(PodsTableTest, ShowsCrictlColumns) {
  runtime::v1::PodSandbox pod;
  pod.set_id(std::string(64, 'b'));
  pod.set_created_at(kNow - 5 * 60 * kSecond);
  pod.set_state(runtime::v1::SANDBOX_NOTREADY);
  pod.mutable_metadata()->set_name("web");
  pod.mutable_metadata()->set_namespace_("default");
  pod.mutable_metadata()->set_attempt(2);

  const std::string table = PodsTable({pod}, {false, kNow});
  EXPECT_EQ(table,
            RenderTable({{"POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"},
                         {std::string(13, 'b'), "5 minutes ago", "NotReady", "web", "default",
                          "2", "(default)"}}));
  EXPECT_EQ(table.substr(0, 20), "POD ID" + std::string(14, ' '));

  pod.set_runtime_handler("kata");
  EXPECT_NE(PodsTable({pod}, {true, kNow}).find(std::string(64, 'b') + "   5 minutes ago"),
            std::string::npos);
  EXPECT_NE(PodsTable({pod}, {true, kNow}).find("kata\n"), std::string::npos);
}

TEST(ContainersTableTest, ShowsCrictlColumnsWithPodName) {
  runtime::v1::Container container;
  container.set_id(std::string(64, 'c'));
  container.set_pod_sandbox_id(std::string(64, 'p'));
  container.mutable_image()->set_image("sha256:" + std::string(64, 'f'));
  container.set_created_at(kNow - 2 * kSecond);
  container.set_state(runtime::v1::CONTAINER_RUNNING);
  container.mutable_metadata()->set_name("app");
  runtime::v1::Container other = container;
  other.set_id("d" + std::string(63, '0'));
  other.set_pod_sandbox_id("unknown");
  other.mutable_image()->set_image("docker.io/library/busybox:latest");
  other.set_state(runtime::v1::CONTAINER_EXITED);

  const std::string table =
      ContainersTable({container, other}, {{std::string(64, 'p'), "web"}}, {false, kNow});
  EXPECT_EQ(table,
            RenderTable({{"CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID",
                          "POD"},
                         {std::string(13, 'c'), std::string(13, 'f'), "2 seconds ago",
                          "Running", "app", "0", std::string(13, 'p'), "web"},
                         {"d" + std::string(12, '0'), "docker.io/library/busybox:latest",
                          "2 seconds ago", "Exited", "app", "0", "unknown", ""}}));
}

TEST(ImagesTableTest, OneRowPerTag) {
  runtime::v1::Image image;
  image.set_id("sha256:" + std::string(64, 'e'));
  image.add_repo_tags("docker.io/library/busybox:latest");
  image.add_repo_tags("localhost:5000/busybox:1.36");
  image.add_repo_digests("docker.io/library/busybox@sha256:" + std::string(64, '9'));
  image.set_size(2150000);
  runtime::v1::Image untagged;
  untagged.set_id("sha256:" + std::string(64, '1'));
  untagged.add_repo_digests("localhost:5000/pause@sha256:" + std::string(64, '2'));
  untagged.set_size(700);

  EXPECT_EQ(ImagesTable({image, untagged}, false, {false, kNow}),
            RenderTable({{"IMAGE", "TAG", "IMAGE ID", "SIZE"},
                         {"docker.io/library/busybox", "latest", std::string(13, 'e'), "2.15MB"},
                         {"localhost:5000/busybox", "1.36", std::string(13, 'e'), "2.15MB"},
                         {"localhost:5000/pause", "<none>", std::string(13, '1'), "700B"}}));

  EXPECT_EQ(ImagesTable({untagged}, true, {false, kNow}),
            RenderTable({{"IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE"},
                         {"localhost:5000/pause", "<none>", std::string(13, '2'),
                          std::string(13, '1'), "700B"}}));
}

TEST(StateNameTest, MatchesCrictlWords) {
  EXPECT_EQ(PodStateName(runtime::v1::SANDBOX_READY), "Ready");
  EXPECT_EQ(ContainerStateName(runtime::v1::CONTAINER_CREATED), "Created");
  EXPECT_EQ(ContainerStateName(runtime::v1::CONTAINER_UNKNOWN), "Unknown");
}

}  // namespace
}  // namespace berth::ctl
