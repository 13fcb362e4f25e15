// Users end to end. run_as_user, run_as_username, run_as_group and supplemental groups (Merge and
// Strict) are read back with `id` inside the container. Ids that could fool a non-root check
// (huge, negative, or a numeric-looking name that /etc/passwd maps to root) must be rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status.h"
#include "e2e/support/cri_fixture.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {
namespace {

// The image's users: "app" (1000, primary group 1001) is listed in staff (50) and audio (29).
// "-1" and "4294967296" are root under names that look like numbers.
constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1001::/home/app:/bin/sh\n"
    "-1:x:0:0::/root:/bin/sh\n"
    "4294967296:x:0:0::/root:/bin/sh\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "app:x:1001:\n"
    "staff:x:50:app\n"
    "audio:x:29:other,app\n"
    "video:x:44:other\n";

class ResourcesUserTest : public CriTest {
 protected:
  // Pushes busybox with the users above as "<host>/e2e/users:<tag>", with image user `user`,
  // and pulls it.
  absl::StatusOr<std::string> PushUsersImage(const std::string& tag, const std::string& user) {
    BERTH_ASSIGN_OR_RETURN(TestLayer busybox, BusyboxLayer());
    BERTH_ASSIGN_OR_RETURN(TestLayer users, LayerBuilder()
                                                .Dir("etc")
                                                .File("etc/passwd", kPasswd)
                                                .File("etc/group", kGroup)
                                                .Dir("home/app", 0755, 1000, 1001)
                                                .Build());
    TestImageConfig config;
    config.user = user;
    BERTH_ASSIGN_OR_RETURN(TestImage built, BuildImage({busybox, users}, config));
    BERTH_RETURN_IF_ERROR(registry().PushImage("e2e/users", tag, built));
    std::string reference = absl::StrCat(registry().host(), "/e2e/users:", tag);
    BERTH_RETURN_IF_ERROR(Pull(reference).status());
    return reference;
  }

  // Starts a container of `config` running `id -u; id -g; id -G` and returns its three output
  // lines (or one line with the error).
  std::vector<std::string> IdOf(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                                v1::ContainerConfig config) {
    config.clear_command();
    for (const char* arg : {"sh", "-c", "id -u; id -g; id -G; sleep 60"}) config.add_command(arg);
    absl::StatusOr<std::string> id = StartNewContainer(pod_id, config, pod);
    if (!id.ok()) return {absl::StrCat("<", id.status().ToString(), ">")};
    // The container prints three lines, then sleeps; poll its log for up to ten seconds.
    std::string path = JoinPath(log_dir(), config.log_path());
    absl::StatusOr<std::string> log = absl::NotFoundError(path);
    for (int i = 0; i < 200; ++i) {
      log = ReadFile(path);
      if (log.ok() && std::count(log->begin(), log->end(), '\n') >= 3) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!log.ok()) return {absl::StrCat("<", log.status().ToString(), ">")};
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
      // "<time> stdout F <text>"
      std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(' ', 3));
      if (fields.size() == 4) lines.emplace_back(fields[3]);
    }
    return lines;
  }

  // Sorts the gids of an `id -G` line, as the kernel and `id` may order them differently.
  static std::string Sorted(const std::string& gids) {
    std::vector<int> numbers;
    for (absl::string_view part : absl::StrSplit(gids, ' ', absl::SkipEmpty())) {
      int number = -1;
      if (!absl::SimpleAtoi(part, &number)) return gids;
      numbers.push_back(number);
    }
    std::sort(numbers.begin(), numbers.end());
    return absl::StrJoin(numbers, " ");
  }

  v1::ContainerConfig Config(const std::string& name, const std::string& image_ref) {
    v1::ContainerConfig config = ContainerConfig(name, {});
    config.mutable_image()->set_image(image_ref);
    return config;
  }
};

TEST_F(ResourcesUserTest, RunAsUserGroupAndMergedGroups) {
  absl::StatusOr<std::string> image = PushUsersImage("merge", "");
  ASSERT_TRUE(image.ok()) << image.status();
  v1::PodSandboxConfig pod = PodConfig("merge");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();

  v1::ContainerConfig config = Config("merged", *image);
  auto* security = config.mutable_linux()->mutable_security_context();
  security->mutable_run_as_user()->set_value(1000);
  security->mutable_run_as_group()->set_value(3000);
  security->add_supplemental_groups(5000);
  std::vector<std::string> lines = IdOf(*pod_id, pod, config);
  ASSERT_EQ(lines.size(), 3u) << absl::StrJoin(lines, " | ");
  EXPECT_EQ(lines[0], "1000");
  EXPECT_EQ(lines[1], "3000");
  EXPECT_EQ(Sorted(lines[2]), "29 50 3000 5000");
}

TEST_F(ResourcesUserTest, StrictPolicyLeavesImageGroupsOut) {
  absl::StatusOr<std::string> image = PushUsersImage("strict", "");
  ASSERT_TRUE(image.ok()) << image.status();
  v1::PodSandboxConfig pod = PodConfig("strict");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();

  v1::ContainerConfig config = Config("strict", *image);
  auto* security = config.mutable_linux()->mutable_security_context();
  security->mutable_run_as_user()->set_value(1000);
  security->add_supplemental_groups(5000);
  security->set_supplemental_groups_policy(v1::Strict);
  std::vector<std::string> lines = IdOf(*pod_id, pod, config);
  ASSERT_EQ(lines.size(), 3u) << absl::StrJoin(lines, " | ");
  EXPECT_EQ(lines[0], "1000");
  EXPECT_EQ(lines[1], "1001");
  EXPECT_EQ(Sorted(lines[2]), "1001 5000");
}

TEST_F(ResourcesUserTest, RunAsUsernameResolvesInImage) {
  absl::StatusOr<std::string> image = PushUsersImage("named", "");
  ASSERT_TRUE(image.ok()) << image.status();
  v1::PodSandboxConfig pod = PodConfig("named");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();

  v1::ContainerConfig config = Config("named", *image);
  config.mutable_linux()->mutable_security_context()->set_run_as_username("app");
  std::vector<std::string> lines = IdOf(*pod_id, pod, config);
  ASSERT_EQ(lines.size(), 3u) << absl::StrJoin(lines, " | ");
  EXPECT_EQ(lines[0], "1000");
  EXPECT_EQ(lines[1], "1001");
  EXPECT_EQ(Sorted(lines[2]), "29 50 1001");
}

TEST_F(ResourcesUserTest, StatusReportsTheUser) {
  absl::StatusOr<std::string> image = PushUsersImage("status", "app");
  ASSERT_TRUE(image.ok()) << image.status();
  v1::PodSandboxConfig pod = PodConfig("status");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> id =
      CreateContainer(*pod_id, Config("status", *image), pod);
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<v1::ContainerStatusResponse> status = ContainerStatus(*id);
  ASSERT_TRUE(status.ok()) << status.status();
  const v1::LinuxContainerUser& user = status->status().user().linux();
  EXPECT_EQ(user.uid(), 1000);
  EXPECT_EQ(user.gid(), 1001);
  std::vector<int64_t> groups(user.supplemental_groups().begin(),
                              user.supplemental_groups().end());
  std::sort(groups.begin(), groups.end());
  EXPECT_EQ(groups, (std::vector<int64_t>{29, 50, 1001}));
}

// Escape: a uid the kubelet's non-root check reads as a non-zero number, but which becomes root
// in the container (through wrap-around or an /etc/passwd name), must never start.
TEST_F(ResourcesUserTest, HugeOrNumericNamedRootUidsAreRejected) {
  ASSERT_TRUE(PushUsersImage("plain", "").ok());
  v1::PodSandboxConfig pod = PodConfig("escape");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  std::string plain = absl::StrCat(registry().host(), "/e2e/users:plain");

  for (int64_t uid : {int64_t{4294967296}, int64_t{-1}, int64_t{2147483648}}) {
    v1::ContainerConfig config = Config(absl::StrCat("uid", uid < 0 ? "neg" : "big"), plain);
    config.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(uid);
    absl::StatusOr<std::string> id = CreateContainer(*pod_id, config, pod);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << uid << " " << id.status();
  }

  v1::ContainerConfig group = Config("gid", plain);
  auto* security = group.mutable_linux()->mutable_security_context();
  security->mutable_run_as_user()->set_value(1000);
  security->mutable_run_as_group()->set_value(4294967296);
  EXPECT_EQ(CreateContainer(*pod_id, group, pod).status().code(),
            absl::StatusCode::kInvalidArgument);

  for (const std::string& name : std::vector<std::string>{"4294967296", "-1"}) {
    v1::ContainerConfig config = Config(absl::StrCat("name", name == "-1" ? "neg" : "big"), plain);
    config.mutable_linux()->mutable_security_context()->set_run_as_username(name);
    absl::StatusOr<std::string> id = CreateContainer(*pod_id, config, pod);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << name << " " << id.status();
  }

  // The same names as the image's own user.
  for (const std::string& user : std::vector<std::string>{"-1", "4294967296"}) {
    std::string tag = user == "-1" ? "negative" : "huge";
    absl::StatusOr<std::string> image = PushUsersImage(tag, user);
    ASSERT_TRUE(image.ok()) << image.status();
    absl::StatusOr<std::string> id = CreateContainer(*pod_id, Config("image" + tag, *image), pod);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << user << " " << id.status();
  }

  // Nothing was left half-made.
  v1::ListContainersResponse listed;
  ASSERT_TRUE(runtime().ListContainers(NewClientContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
}

TEST_F(ResourcesUserTest, PodIdsOutOfRangeAreRejected) {
  v1::PodSandboxConfig pod = PodConfig("podids");
  pod.mutable_linux()->mutable_security_context()->add_supplemental_groups(4294967296);
  EXPECT_EQ(RunPod(pod).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::e2e
