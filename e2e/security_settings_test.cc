// Security settings end to end, read back from inside running containers: capability sets,
// no_new_privs and the seccomp mode from /proc/self/status, syscalls a profile denies, masked and
// read-only paths, read-only root file systems, privileged containers and AppArmor requests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "e2e/support/security_fixture.h"
#include "runtime/linux/apparmor.h"

namespace berth::e2e {
namespace {

// CAP_CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE,
// NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP: bits 0 1 3 4 5 6 7 8 10 13 18 27 29 31.
constexpr char kDefaultCaps[] = "00000000a80425fb";
constexpr char kNoCaps[] = "0000000000000000";
constexpr char kNetBindService[] = "0000000000000400";

// The bounding set of this test process: everything a privileged container can get here (the
// host may withhold some capabilities, e.g. CAP_SYS_RESOURCE).
std::string HostBoundingSet() {
  absl::StatusOr<std::string> status = ReadFile("/proc/self/status");
  if (!status.ok()) return "";
  return StatusFields(*status)["CapBnd"];
}

std::string WriteProfile(const std::string& dir, const std::string& name,
                         const std::string& text) {
  std::string path = JoinPath(dir, name);
  EXPECT_TRUE(WriteFile(path, text).ok());
  return path;
}

class SecuritySettingsTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    char dir[] = "/tmp/berth-e2e-seccomp-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    profile_dir_ = dir;
  }
  void TearDown() override {
    SecurityTest::TearDown();
    (void)RemoveAll(profile_dir_);
  }
  std::string profile_dir_;
};

TEST_F(SecuritySettingsTest, DefaultCapabilitiesWithoutSeccomp) {
  StartPod("caps");
  absl::StatusOr<std::string> out = RunToExit(ContainerConfig("status", StatusCommand()));
  ASSERT_TRUE(out.ok()) << out.status();
  auto fields = StatusFields(*out);
  EXPECT_EQ(fields["CapEff"], kDefaultCaps) << *out;
  EXPECT_EQ(fields["CapBnd"], kDefaultCaps);
  EXPECT_EQ(fields["CapPrm"], kDefaultCaps);
  EXPECT_EQ(fields["CapInh"], kNoCaps);
  EXPECT_EQ(fields["NoNewPrivs"], "0");
  EXPECT_EQ(fields["Seccomp"], "0");
}

TEST_F(SecuritySettingsTest, RuntimeDefaultDropAllAndNoNewPrivs) {
  StartPod("confined");
  v1::ContainerConfig config = ContainerConfig("status", StatusCommand());
  auto* sc = config.mutable_linux()->mutable_security_context();
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  sc->set_no_new_privs(true);
  sc->mutable_capabilities()->add_drop_capabilities("ALL");
  sc->mutable_capabilities()->add_add_capabilities("NET_BIND_SERVICE");
  absl::StatusOr<std::string> out = RunToExit(config);
  ASSERT_TRUE(out.ok()) << out.status();
  auto fields = StatusFields(*out);
  EXPECT_EQ(fields["CapEff"], kNetBindService) << *out;
  EXPECT_EQ(fields["CapBnd"], kNetBindService);
  EXPECT_EQ(fields["CapInh"], kNoCaps);
  EXPECT_EQ(fields["NoNewPrivs"], "1");
  EXPECT_EQ(fields["Seccomp"], "2");
}

TEST_F(SecuritySettingsTest, RuntimeDefaultRefusesNewNamespaces) {
  StartPod("unshare");
  // Creating a user namespace needs no capability, so only the profile can refuse it.
  std::vector<std::string> command = {"sh", "-c", "unshare -U true; echo status=$?"};
  v1::ContainerConfig open = ContainerConfig("open", command);
  absl::StatusOr<std::string> unconfined = RunToExit(open);
  ASSERT_TRUE(unconfined.ok()) << unconfined.status();
  Report("unshare -U without seccomp", *unconfined);

  v1::ContainerConfig config = ContainerConfig("confined", command);
  config.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      v1::SecurityProfile::RuntimeDefault);
  absl::StatusOr<std::string> out = RunToExit(config);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(absl::StrContains(*out, "Operation not permitted")) << *out;
  EXPECT_FALSE(absl::StrContains(*out, "status=0")) << *out;
}

TEST_F(SecuritySettingsTest, LocalhostProfileDeniesMkdirWithEperm) {
  StartPod("localhost");
  std::string path = WriteProfile(profile_dir_, "no-mkdir.json", R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]})");
  v1::ContainerConfig config =
      ContainerConfig("mkdir", {"sh", "-c", "mkdir /tmp/denied; echo status=$?; grep Seccomp: "
                                            "/proc/self/status"});
  auto* seccomp = config.mutable_linux()->mutable_security_context()->mutable_seccomp();
  seccomp->set_profile_type(v1::SecurityProfile::Localhost);
  seccomp->set_localhost_ref(path);
  absl::StatusOr<std::string> out = RunToExit(config);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(absl::StrContains(*out, "Operation not permitted")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "status=1")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "Seccomp:\t2")) << *out;
}

TEST_F(SecuritySettingsTest, BadLocalhostProfilesFailCreateNamingFileAndReason) {
  StartPod("badprofile");
  struct Case {
    std::string file;
    std::string text;  // empty: the file does not exist
    std::string reason;
  };
  const Case cases[] = {
      {"missing.json", "", "No such file"},
      {"garbage.json", "{ not json", "not valid JSON"},
      {"action.json", R"({"defaultAction": "SCMP_ACT_BOOM"})", "SCMP_ACT_BOOM"},
  };
  for (const Case& c : cases) {
    std::string path = JoinPath(profile_dir_, c.file);
    if (!c.text.empty()) WriteProfile(profile_dir_, c.file, c.text);
    v1::ContainerConfig config = ContainerConfig("bad", {"true"});
    auto* seccomp = config.mutable_linux()->mutable_security_context()->mutable_seccomp();
    seccomp->set_profile_type(v1::SecurityProfile::Localhost);
    seccomp->set_localhost_ref(path);
    absl::StatusOr<std::string> created = CreateContainer(pod_id_, config, pod_);
    ASSERT_FALSE(created.ok()) << c.file;
    EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument) << created.status();
    EXPECT_TRUE(absl::StrContains(created.status().message(), path)) << created.status();
    EXPECT_TRUE(absl::StrContains(created.status().message(), c.reason)) << created.status();
  }
}

TEST_F(SecuritySettingsTest, MaskedAndReadonlyPathsAndReadonlyRoot) {
  StartPod("paths");
  v1::ContainerConfig config = ContainerConfig(
      "paths", {"sh", "-c",
                "echo timer=$(wc -c < /proc/timer_list); "
                "echo firmware=$(ls /sys/firmware | wc -l); "
                "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; echo sysw=$?; "
                "touch /newfile 2>/dev/null; echo rootw=$?"});
  config.mutable_linux()->mutable_security_context()->set_readonly_rootfs(true);
  absl::StatusOr<std::string> out = RunToExit(config);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(absl::StrContains(*out, "timer=0")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "firmware=0")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "sysw=")) << *out;
  EXPECT_FALSE(absl::StrContains(*out, "sysw=0")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "rootw=")) << *out;
  EXPECT_FALSE(absl::StrContains(*out, "rootw=0")) << *out;

  // The CRI fields replace the defaults.
  v1::ContainerConfig custom = ContainerConfig(
      "custom", {"sh", "-c", "echo passwd=$(wc -c < /etc/passwd); "
                             "echo timer=$(head -c 1 /proc/timer_list | wc -c)"});
  custom.mutable_linux()->mutable_security_context()->add_masked_paths("/etc/passwd");
  absl::StatusOr<std::string> custom_out = RunToExit(custom);
  ASSERT_TRUE(custom_out.ok()) << custom_out.status();
  EXPECT_TRUE(absl::StrContains(*custom_out, "passwd=0")) << *custom_out;
  EXPECT_TRUE(absl::StrContains(*custom_out, "timer=1")) << *custom_out;
}

TEST_F(SecuritySettingsTest, AmbientCapabilitiesForANonRootUser) {
  StartPod("ambient");
  v1::ContainerConfig plain = ContainerConfig("plain", StatusCommand());
  plain.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(1000);
  absl::StatusOr<std::string> out = RunToExit(plain);
  ASSERT_TRUE(out.ok()) << out.status();
  auto fields = StatusFields(*out);
  EXPECT_EQ(fields["CapEff"], kNoCaps) << *out;
  EXPECT_EQ(fields["CapInh"], kNoCaps);
  EXPECT_EQ(fields["CapBnd"], kDefaultCaps);

  v1::ContainerConfig ambient = ContainerConfig("ambient", StatusCommand());
  auto* sc = ambient.mutable_linux()->mutable_security_context();
  sc->mutable_run_as_user()->set_value(1000);
  sc->mutable_capabilities()->add_drop_capabilities("ALL");
  sc->mutable_capabilities()->add_add_ambient_capabilities("CAP_NET_BIND_SERVICE");
  absl::StatusOr<std::string> ambient_out = RunToExit(ambient);
  ASSERT_TRUE(ambient_out.ok()) << ambient_out.status();
  fields = StatusFields(*ambient_out);
  EXPECT_EQ(fields["CapAmb"], kNetBindService) << *ambient_out;
  EXPECT_EQ(fields["CapEff"], kNetBindService);
  EXPECT_EQ(fields["CapInh"], kNetBindService);
}

TEST_F(SecuritySettingsTest, PrivilegedNeedsAPrivilegedSandbox) {
  StartPod("plainpod");
  v1::ContainerConfig config = ContainerConfig("priv", {"true"});
  config.mutable_linux()->mutable_security_context()->set_privileged(true);
  absl::StatusOr<std::string> created = CreateContainer(pod_id_, config, pod_);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument) << created.status();
  EXPECT_TRUE(absl::StrContains(created.status().message(), "privileged")) << created.status();
}

TEST_F(SecuritySettingsTest, PrivilegedGetsEverything) {
  StartPod("privpod", /*privileged=*/true);
  v1::ContainerConfig config = ContainerConfig(
      "priv", {"sh", "-c",
               "grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status; "
               "echo timer=$(head -c 1 /proc/timer_list | wc -c); "
               "grep ' /sys sysfs ' /proc/mounts; "
               "test -c /dev/kmsg && echo kmsg=yes"});
  auto* sc = config.mutable_linux()->mutable_security_context();
  sc->set_privileged(true);
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  absl::StatusOr<std::string> out = RunToExit(config);
  ASSERT_TRUE(out.ok()) << out.status();
  auto fields = StatusFields(*out);
  EXPECT_EQ(fields["CapEff"], HostBoundingSet()) << *out;
  EXPECT_EQ(fields["CapBnd"], HostBoundingSet());
  EXPECT_EQ(fields["Seccomp"], "0");
  EXPECT_TRUE(absl::StrContains(*out, "timer=1")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "sysfs rw")) << *out;
  if (PathExists("/dev/kmsg")) {
    EXPECT_TRUE(absl::StrContains(*out, "kmsg=yes")) << *out;
  }
}

TEST_F(SecuritySettingsTest, AppArmorLocalhostWithoutAppArmorIsAClearError) {
  if (runtime::AppArmorEnabled()) GTEST_SKIP() << "this host has AppArmor";
  StartPod("apparmor");
  v1::ContainerConfig config = ContainerConfig("aa", {"true"});
  auto* apparmor = config.mutable_linux()->mutable_security_context()->mutable_apparmor();
  apparmor->set_profile_type(v1::SecurityProfile::Localhost);
  apparmor->set_localhost_ref("berth-test-profile");
  absl::StatusOr<std::string> created = CreateContainer(pod_id_, config, pod_);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kFailedPrecondition) << created.status();
  EXPECT_TRUE(absl::StrContains(created.status().message(), "berth-test-profile"));
  EXPECT_TRUE(absl::StrContains(created.status().message(), "AppArmor is not enabled"));

  // RuntimeDefault is best effort, as elsewhere: without AppArmor the container runs.
  v1::ContainerConfig fallback = ContainerConfig("aadefault", {"true"});
  fallback.mutable_linux()->mutable_security_context()->mutable_apparmor()->set_profile_type(
      v1::SecurityProfile::RuntimeDefault);
  absl::StatusOr<std::string> out = RunToExit(fallback);
  EXPECT_TRUE(out.ok()) << out.status();
}

}  // namespace
}  // namespace berth::e2e
