#include "pod/user_spec.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/file.h"

namespace berth::pod {
namespace {

namespace v1 = ::runtime::v1;

class UserSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-user-spec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(MakeDirs(dir_ + "/etc").ok());
    // "-1" and "4294967296" are names a hostile image gives to root.
    ASSERT_TRUE(WriteFile(dir_ + "/etc/passwd",
                          "root:x:0:0::/root:/bin/sh\n"
                          "app:x:1000:1001::/home/app:/bin/sh\n"
                          "-1:x:0:0::/:/bin/sh\n"
                          "4294967296:x:0:0::/:/bin/sh\n"
                          "huge:x:2147483648:0::/:/bin/sh\n")
                    .ok());
    ASSERT_TRUE(WriteFile(dir_ + "/etc/group",
                          "root:x:0:\napp:x:1001:\nstaff:x:50:app,other\naudio:x:29:app\n"
                          "video:x:44:other\n")
                    .ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  absl::StatusOr<runtime::User> Resolve(const v1::LinuxContainerSecurityContext& security,
                                        const std::string& image_user = "") {
    return ContainerUser(security, image_user, {dir_});
  }

  std::string dir_;
};

TEST_F(UserSpecTest, NumericLookingUsersAreNeverNames) {
  for (const std::string& user : std::vector<std::string>{"-1", "4294967296", "99999999999999999999", "2147483648",
                                  "1000:-1", "1000:4294967296"}) {
    absl::StatusOr<runtime::User> resolved = ResolveUser(user, {dir_});
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument) << user;
  }
  absl::StatusOr<runtime::User> largest = ResolveUser("2147483647", {dir_});
  ASSERT_TRUE(largest.ok()) << largest.status();
  EXPECT_EQ(largest->uid, 2147483647u);
}

TEST_F(UserSpecTest, NameWithHugeUidIsRejected) {
  EXPECT_EQ(ResolveUser("huge", {dir_}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(UserSpecTest, RunAsUserOutOfRangeIsRejected) {
  for (int64_t uid : {int64_t{-1}, int64_t{2147483648}, int64_t{4294967296}}) {
    v1::LinuxContainerSecurityContext security;
    security.mutable_run_as_user()->set_value(uid);
    EXPECT_EQ(Resolve(security).status().code(), absl::StatusCode::kInvalidArgument) << uid;
  }
  v1::LinuxContainerSecurityContext group;
  group.mutable_run_as_user()->set_value(1000);
  group.mutable_run_as_group()->set_value(4294967296);
  EXPECT_EQ(Resolve(group).status().code(), absl::StatusCode::kInvalidArgument);
  v1::LinuxContainerSecurityContext supplemental;
  supplemental.add_supplemental_groups(4294967296);
  EXPECT_EQ(Resolve(supplemental).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(UserSpecTest, MergeAddsImageGroupsAndPodGroups) {
  v1::LinuxContainerSecurityContext security;
  security.set_run_as_username("app");
  security.add_supplemental_groups(5000);
  security.add_supplemental_groups(50);
  absl::StatusOr<runtime::User> user = Resolve(security);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1001u);
  EXPECT_EQ(user->additional_gids, (std::vector<uint32_t>{1001, 50, 29, 5000}));
}

TEST_F(UserSpecTest, NumericUidFindsItsNameForGroups) {
  v1::LinuxContainerSecurityContext security;
  security.mutable_run_as_user()->set_value(1000);
  security.mutable_run_as_group()->set_value(3000);
  absl::StatusOr<runtime::User> user = Resolve(security);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->gid, 3000u);
  EXPECT_EQ(user->additional_gids, (std::vector<uint32_t>{3000, 50, 29}));
}

TEST_F(UserSpecTest, StrictLeavesImageGroupsOut) {
  v1::LinuxContainerSecurityContext security;
  security.mutable_run_as_user()->set_value(1000);
  security.add_supplemental_groups(5000);
  security.set_supplemental_groups_policy(v1::Strict);
  absl::StatusOr<runtime::User> user = Resolve(security);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->additional_gids, (std::vector<uint32_t>{1001, 5000}));
}

TEST_F(UserSpecTest, ImageUserIsTheDefault) {
  absl::StatusOr<runtime::User> user = Resolve({}, "app:staff");
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 50u);
  absl::StatusOr<runtime::User> hostile = Resolve({}, "-1");
  EXPECT_EQ(hostile.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckPodUserIds, RejectsOutOfRange) {
  v1::LinuxSandboxSecurityContext security;
  EXPECT_TRUE(CheckPodUserIds(security).ok());
  security.mutable_run_as_group()->set_value(-5);
  EXPECT_EQ(CheckPodUserIds(security).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::pod
