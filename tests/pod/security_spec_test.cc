// The security part of a container spec: capability sets from add/drop/ambient, privileged
// mode and its sandbox check, profile choices (including the deprecated string fields) and the
// errors a bad Localhost profile gives.
#include "pod/security_spec.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/file.h"
#include "runtime/linux/capabilities.h"

namespace berth::pod {
namespace {

namespace v1 = ::runtime::v1;

bool Has(const std::vector<std::string>& set, const std::string& name) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

class SecuritySpecTest : public ::testing::Test {
 protected:
  absl::Status Apply() { return ApplyContainerSecurity(spec_, config_, sandbox_); }
  v1::LinuxContainerSecurityContext& sc() {
    return *config_.mutable_linux()->mutable_security_context();
  }

  runtime::Spec spec_ = runtime::BaseSpec();
  v1::ContainerConfig config_;
  SandboxRecord sandbox_;
};

TEST_F(SecuritySpecTest, DefaultsAreTheFourteenWithEmptyInheritableAndNoFilter) {
  ASSERT_TRUE(Apply().ok());
  const runtime::Capabilities& caps = *spec_.process.capabilities;
  EXPECT_EQ(caps.bounding, runtime::DefaultCapabilityNames());
  EXPECT_EQ(caps.effective, caps.bounding);
  EXPECT_EQ(caps.permitted, caps.bounding);
  EXPECT_TRUE(caps.inheritable.empty());
  EXPECT_TRUE(caps.ambient.empty());
  EXPECT_FALSE(spec_.linux.seccomp.has_value());
  EXPECT_EQ(spec_.linux.masked_paths, runtime::DefaultMaskedPaths());
  EXPECT_FALSE(spec_.process.no_new_privileges);
}

TEST_F(SecuritySpecTest, AddAndDropIncludingAll) {
  sc().mutable_capabilities()->add_add_capabilities("net_admin");
  sc().mutable_capabilities()->add_drop_capabilities("CAP_CHOWN");
  ASSERT_TRUE(Apply().ok());
  EXPECT_TRUE(Has(spec_.process.capabilities->bounding, "CAP_NET_ADMIN"));
  EXPECT_FALSE(Has(spec_.process.capabilities->bounding, "CAP_CHOWN"));

  spec_ = runtime::BaseSpec();
  config_.Clear();
  sc().mutable_capabilities()->add_drop_capabilities("ALL");
  sc().mutable_capabilities()->add_add_capabilities("NET_BIND_SERVICE");
  ASSERT_TRUE(Apply().ok());
  EXPECT_EQ(spec_.process.capabilities->bounding,
            std::vector<std::string>{"CAP_NET_BIND_SERVICE"});

  spec_ = runtime::BaseSpec();
  config_.Clear();
  sc().mutable_capabilities()->add_add_capabilities("ALL");
  sc().mutable_capabilities()->add_drop_capabilities("SYS_ADMIN");
  ASSERT_TRUE(Apply().ok());
  EXPECT_EQ(spec_.process.capabilities->bounding.size(), runtime::AllCapabilityNames().size() - 1);
  EXPECT_FALSE(Has(spec_.process.capabilities->bounding, "CAP_SYS_ADMIN"));
}

TEST_F(SecuritySpecTest, UnknownCapabilityIsInvalidArgument) {
  sc().mutable_capabilities()->add_add_capabilities("CAP_FLY");
  absl::Status status = Apply();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("CAP_FLY"), std::string::npos);
}

TEST_F(SecuritySpecTest, AmbientJoinsEverySetAndIsTheOnlyInheritable) {
  sc().mutable_capabilities()->add_drop_capabilities("ALL");
  sc().mutable_capabilities()->add_add_ambient_capabilities("NET_BIND_SERVICE");
  ASSERT_TRUE(Apply().ok());
  const runtime::Capabilities& caps = *spec_.process.capabilities;
  std::vector<std::string> expected = {"CAP_NET_BIND_SERVICE"};
  EXPECT_EQ(caps.ambient, expected);
  EXPECT_EQ(caps.inheritable, expected);
  EXPECT_EQ(caps.bounding, expected);
}

TEST_F(SecuritySpecTest, RuntimeDefaultFollowsTheFinalBoundingSet) {
  sc().mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  ASSERT_TRUE(Apply().ok());
  ASSERT_TRUE(spec_.linux.seccomp.has_value());
  bool clone3_enosys = false;
  for (const auto& rule : spec_.linux.seccomp->syscalls) {
    if (Has(rule.names, "clone3") && rule.action == "SCMP_ACT_ERRNO") clone3_enosys = true;
  }
  EXPECT_TRUE(clone3_enosys);

  spec_ = runtime::BaseSpec();
  sc().mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
  ASSERT_TRUE(Apply().ok());
  bool mount_allowed = false;
  for (const auto& rule : spec_.linux.seccomp->syscalls) {
    if (Has(rule.names, "mount")) mount_allowed = rule.action == "SCMP_ACT_ALLOW";
  }
  EXPECT_TRUE(mount_allowed);
}

TEST_F(SecuritySpecTest, PrivilegedNeedsPrivilegedSandbox) {
  sc().set_privileged(true);
  absl::Status refused = Apply();
  EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;

  sandbox_.config.mutable_linux()->mutable_security_context()->set_privileged(true);
  sc().mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  ASSERT_TRUE(Apply().ok());
  EXPECT_EQ(spec_.process.capabilities->bounding, runtime::AllCapabilityNames());
  EXPECT_FALSE(spec_.linux.seccomp.has_value());
  EXPECT_TRUE(spec_.linux.masked_paths.empty());
  EXPECT_TRUE(spec_.linux.readonly_paths.empty());
  for (const runtime::Mount& mount : spec_.mounts) {
    if (mount.destination == "/sys") {
      EXPECT_FALSE(Has(mount.options, "ro"));
    }
  }
  EXPECT_GT(spec_.linux.devices.size(), runtime::DefaultDevices().size());
}

TEST_F(SecuritySpecTest, LegacyStringsAndLocalhostChecks) {
  absl::StatusOr<ProfileChoice> choice = ReadProfileChoice(nullptr, "runtime/default", true, "f");
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->kind, ProfileChoice::Kind::kRuntimeDefault);
  choice = ReadProfileChoice(nullptr, "localhost/etc/p.json", true, "f");
  EXPECT_FALSE(choice.ok());  // "etc/p.json" is relative
  choice = ReadProfileChoice(nullptr, "localhost//etc/p.json", true, "f");
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->localhost_ref, "/etc/p.json");
  EXPECT_FALSE(ReadProfileChoice(nullptr, "bogus", true, "f").ok());
  v1::SecurityProfile empty_ref;
  empty_ref.set_profile_type(v1::SecurityProfile::Localhost);
  EXPECT_TRUE(absl::IsInvalidArgument(ReadProfileChoice(&empty_ref, "", true, "f").status()));
}

TEST_F(SecuritySpecTest, BadLocalhostFileNamesFileAndReason) {
  char dir[] = "/tmp/berth-security-spec-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = JoinPath(dir, "profile.json");
  ASSERT_TRUE(WriteFile(path, R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "op": "SCMP_CMP_EQ"}]}]})")
                  .ok());
  sc().mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc().mutable_seccomp()->set_localhost_ref(path);
  absl::Status status = Apply();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
  EXPECT_NE(status.message().find("syscalls[0].args[0].index"), std::string::npos) << status;

  sc().mutable_seccomp()->set_localhost_ref(JoinPath(dir, "absent.json"));
  status = Apply();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("absent.json"), std::string::npos) << status;
  ASSERT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace berth::pod
