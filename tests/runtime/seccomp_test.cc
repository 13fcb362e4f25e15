// The seccomp filter: its JSON form, Berth's default profile, and the compiled program installed
// in a child process, where denied syscalls must fail with the profile's errno.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <string>

#include "base/file.h"
#include "runtime/linux/seccomp.h"
#include "runtime/seccomp_default.h"
#include "runtime/spec.h"

namespace berth::runtime {
namespace {

using nlohmann::json;

const SeccompSyscall* FindRule(const Seccomp& profile, const std::string& name) {
  for (const SeccompSyscall& rule : profile.syscalls) {
    if (std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end()) return &rule;
  }
  return nullptr;
}

// Runs `body` in a child that first installs `profile` (with no_new_privs), and returns the
// child's exit code: body's return value, or 100 + errno of a failed install.
int RunConfined(const Seccomp& profile, const std::function<int()>& body) {
  absl::StatusOr<CompiledSeccomp> compiled = CompileSeccomp(profile);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok()) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    absl::Status installed = InstallSeccomp(*compiled);
    if (!installed.ok()) ::_exit(100 + static_cast<int>(installed.code()));
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

TEST(SeccompJsonTest, RoundTripsTheOciForm) {
  json in = json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,
                            "op": "SCMP_CMP_MASKED_EQ"}]},
                 {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]})");
  absl::StatusOr<Seccomp> parsed = SeccompFromJson(in, "");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(ValidateSeccomp(*parsed, "").ok());
  EXPECT_EQ(parsed->syscalls[0].args[0].value, 2114060288u);
  EXPECT_EQ(*parsed->syscalls[1].errno_ret, 38u);
  absl::StatusOr<Seccomp> again = SeccompFromJson(SeccompToJson(*parsed), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SeccompToJson(*again), SeccompToJson(*parsed));
}

TEST(SeccompJsonTest, NamesTheBadMember) {
  Seccomp bad;
  bad.default_action = "SCMP_ACT_ALLOW";
  bad.syscalls.push_back({{"mkdir"}, "SCMP_ACT_EXPLODE", std::nullopt, {}});
  absl::Status status = ValidateSeccomp(bad, "linux.seccomp.");
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("linux.seccomp.syscalls[0].action"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find("SCMP_ACT_EXPLODE"), std::string::npos);

  absl::StatusOr<Seccomp> typed = SeccompFromJson(json::parse(R"({"syscalls": [{"names": 3}]})"), "");
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(typed.status().message().find("syscalls[0].names"), std::string::npos);
}

TEST(SeccompJsonTest, ProfileFileErrorsNameTheFile) {
  char dir_template[] = "/tmp/berth-seccomp-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  std::string broken = JoinPath(dir, "broken.json");
  ASSERT_TRUE(WriteFile(broken, "{not json").ok());
  absl::StatusOr<Seccomp> parsed = ReadSeccompFile(broken);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find(broken), std::string::npos);
  EXPECT_NE(parsed.status().message().find("not valid JSON"), std::string::npos);

  absl::StatusOr<Seccomp> missing = ReadSeccompFile(JoinPath(dir, "missing.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.json"), std::string::npos);
  ASSERT_TRUE(RemoveAll(dir).ok());
}

TEST(DefaultSeccompTest, GuardsNamespacesWithoutSysAdmin) {
  Seccomp profile = DefaultSeccompProfile(DefaultCapabilityNames());
  EXPECT_EQ(profile.default_action, "SCMP_ACT_ERRNO");
  const SeccompSyscall* clone = FindRule(profile, "clone");
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->args.size(), 1u);
  EXPECT_EQ(clone->args[0].op, "SCMP_CMP_MASKED_EQ");
  const SeccompSyscall* clone3 = FindRule(profile, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(*clone3->errno_ret, static_cast<uint32_t>(ENOSYS));
  EXPECT_EQ(FindRule(profile, "mount"), nullptr);
  EXPECT_EQ(FindRule(profile, "unshare"), nullptr);
  EXPECT_NE(FindRule(profile, "chroot"), nullptr);  // CAP_SYS_CHROOT is a default capability
  EXPECT_NE(FindRule(profile, "openat"), nullptr);
  EXPECT_TRUE(ValidateSeccomp(profile, "").ok());
}

TEST(DefaultSeccompTest, SysAdminAllowsMountAndUnguardedClone) {
  std::vector<std::string> caps = DefaultCapabilityNames();
  caps.push_back("CAP_SYS_ADMIN");
  Seccomp profile = DefaultSeccompProfile(caps);
  ASSERT_NE(FindRule(profile, "mount"), nullptr);
  const SeccompSyscall* clone = FindRule(profile, "clone");
  ASSERT_NE(clone, nullptr);
  EXPECT_TRUE(clone->args.empty());
  EXPECT_EQ(FindRule(profile, "clone3")->action, "SCMP_ACT_ALLOW");
}

TEST(SeccompInstallTest, DefaultProfileRefusesNamespacesAndAnswersClone3WithEnosys) {
  Seccomp profile = DefaultSeccompProfile(DefaultCapabilityNames());
  EXPECT_EQ(RunConfined(profile, [] { return ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno; }), EPERM);
  EXPECT_EQ(RunConfined(profile,
                        [] {
                          long r = ::syscall(SYS_clone3, nullptr, 0);
                          return r == 0 ? 0 : errno;
                        }),
            ENOSYS);
  // Ordinary calls still work.
  EXPECT_EQ(RunConfined(profile, [] { return ::getpid() > 0 ? 0 : 1; }), 0);
}

TEST(SeccompInstallTest, LocalhostStyleProfileDeniesMkdir) {
  Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.syscalls.push_back({{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", std::nullopt, {}});
  char dir_template[] = "/tmp/berth-seccomp-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  std::string target = JoinPath(dir_template, "denied");
  EXPECT_EQ(RunConfined(profile, [&] { return ::mkdir(target.c_str(), 0755) == 0 ? 0 : errno; }),
            EPERM);
  EXPECT_FALSE(PathExists(target));
  ::rmdir(dir_template);
}

}  // namespace
}  // namespace berth::runtime
