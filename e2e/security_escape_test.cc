// Known container escapes, each a regression test that must keep failing: overwriting the Berth
// binary through /proc/<pid>/exe, inheriting a host descriptor or a working directory outside
// the root, image symlinks that would move mounts and device nodes onto the host, and a masked
// path turned into a symlink.
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "e2e/support/security_fixture.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;

class SecurityEscapeTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    char dir[] = "/tmp/berth-e2e-escape-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    host_dir_ = dir;
  }
  void TearDown() override {
    SecurityTest::TearDown();
    (void)RemoveAll(host_dir_);
  }

  // Pids of this daemon's shims (their command line names its state folder).
  std::vector<pid_t> ShimPids() {
    std::vector<pid_t> pids;
    for (pid_t pid : ProcessesMentioning(daemon().state())) {
      if (absl::StrContains(CommandLineOf(pid), "berth-shim")) pids.push_back(pid);
    }
    return pids;
  }

  std::string host_dir_;  // a host folder the hostile images point at
};

bool ExeOnReadOnlyMount(pid_t pid) {
  struct statvfs info;
  std::string exe = absl::StrCat("/proc/", pid, "/exe");
  return ::statvfs(exe.c_str(), &info) == 0 && (info.f_flag & ST_RDONLY) != 0;
}

TEST_F(SecurityEscapeTest, BerthBinaryCannotBeOverwrittenThroughProcExe) {
  StartPod("exe", /*privileged=*/false, /*share_pid=*/true);
  // A created, not started container: its process runs the shim binary until StartContainer.
  v1::ContainerConfig waiting = ContainerConfig("waiting", {"sleep", "60"});
  waiting.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      v1::POD);
  absl::StatusOr<std::string> waiting_id = CreateContainer(pod_id_, waiting, pod_);
  ASSERT_TRUE(waiting_id.ok()) << waiting_id.status();
  absl::StatusOr<pid_t> waiting_pid = ContainerPid(*waiting_id);
  ASSERT_TRUE(waiting_pid.ok()) << waiting_pid.status();
  Track(*waiting_pid);

  // Every Berth process a container could reach runs from a read-only mount.
  std::vector<pid_t> shims = ShimPids();
  ASSERT_FALSE(shims.empty());
  for (pid_t pid : shims) EXPECT_TRUE(ExeOnReadOnlyMount(pid)) << "shim " << pid;
  EXPECT_TRUE(ExeOnReadOnlyMount(*waiting_pid));
  // Its pid as the pod's PID namespace numbers it: the last NSpid field.
  absl::StatusOr<std::string> status = ReadFile(absl::StrCat("/proc/", *waiting_pid, "/status"));
  ASSERT_TRUE(status.ok()) << status.status();
  std::vector<std::string> nspid = absl::StrSplit(StatusFields(*status)["NSpid"], '\t');
  ASSERT_FALSE(nspid.empty());
  absl::StatusOr<std::string> before = ReadFile(absl::StrCat("/proc/", shims[0], "/exe"));
  ASSERT_TRUE(before.ok()) << before.status();

  // A container in the same PID namespace, even with CAP_SYS_PTRACE, tries to append to the
  // executable of every process it sees (the pause, the waiting container's process).
  v1::ContainerConfig attacker = ContainerConfig(
      "attacker", {"sh", "-c",
                   "for d in /proc/[0-9]*; do p=${d#/proc/}; [ $p = $$ ] && continue; "
                   "if printf x >> $d/exe 2>/dev/null; then echo WROTE $p; "
                   "else echo refused $p; fi; done"});
  auto* sc = attacker.mutable_linux()->mutable_security_context();
  sc->mutable_namespace_options()->set_pid(v1::POD);
  sc->mutable_capabilities()->add_add_capabilities("SYS_PTRACE");
  absl::StatusOr<std::string> out = RunToExit(attacker);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(absl::StrContains(*out, "WROTE")) << *out;
  std::string lines = absl::StrCat("\n", *out, "\n");
  EXPECT_TRUE(absl::StrContains(lines, "\nrefused 1\n")) << *out;  // the pause process
  EXPECT_TRUE(absl::StrContains(lines, absl::StrCat("\nrefused ", nspid.back(), "\n"))) << *out;
  Report("attempts from the attacker container", *out);

  absl::StatusOr<std::string> after = ReadFile(absl::StrCat("/proc/", shims[0], "/exe"));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(*before == *after) << "the shim binary changed";
}

TEST_F(SecurityEscapeTest, NoHostDescriptorIsInherited) {
  StartPod("fds");
  // ls lists the descriptors of the shell, which waits for it. The trailing "true" keeps the
  // shell from replacing itself with ls, and no pipe or redirection adds a descriptor.
  const std::vector<std::string> list_fds = {"sh", "-c", "ls /proc/$$/fd; true"};
  absl::StatusOr<std::string> out = RunToExit(ContainerConfig("fds", list_fds));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "0\n1\n2") << *out;

  absl::StatusOr<std::string> id =
      StartNewContainer(pod_id_, ContainerConfig("sleeper", {"sleep", "60"}), pod_);
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<pid_t> pid = ContainerPid(*id);
  ASSERT_TRUE(pid.ok()) << pid.status();
  Track(*pid);
  EXPECT_EQ(ListDir(absl::StrCat("/proc/", *pid, "/fd")),
            (std::vector<std::string>{"0", "1", "2"}));

  absl::StatusOr<v1::ExecSyncResponse> exec = ExecSync(*id, list_fds, 10);
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ(exec->stdout(), "0\n1\n2\n") << exec->stderr();
}

TEST_F(SecurityEscapeTest, WorkingDirectoryThroughProcFdIsRefused) {
  StartPod("cwd");
  for (const std::string& cwd : {std::string("/proc/self/cwd"), std::string("/proc/self/root"),
                                 std::string("/proc/1/root")}) {
    v1::ContainerConfig config = ContainerConfig("cwd", {"pwd"});
    config.set_working_dir(cwd);
    EXPECT_FALSE(CreateContainer(pod_id_, config, pod_).ok()) << cwd;
  }
  for (int fd = 0; fd <= 12; ++fd) {
    v1::ContainerConfig config = ContainerConfig(absl::StrCat("cwd", fd), {"ls", "-a", ".."});
    config.set_working_dir(absl::StrCat("/proc/self/fd/", fd));
    absl::StatusOr<std::string> created = CreateContainer(pod_id_, config, pod_);
    EXPECT_FALSE(created.ok()) << "working_dir /proc/self/fd/" << fd << " was accepted";
  }
}

TEST_F(SecurityEscapeTest, ImageSymlinksOutOfTheRootStayInside) {
  StartPod("symlinks");
  ASSERT_TRUE(WriteFile(JoinPath(host_dir_, "hosts"), "HOSTFILE\n").ok());
  // Absolute and relative targets that would leave the root if followed on the host.
  LayerBuilder layer;
  layer.Symlink("dev", JoinPath(host_dir_, "dev"))
      .Symlink("proc", JoinPath(host_dir_, "proc"))
      .Symlink("sys", absl::StrCat("../../../../../..", host_dir_, "/sys"))
      .Dir("etc")
      .Symlink("etc/hosts", JoinPath(host_dir_, "hosts"))
      .Symlink("data", JoinPath(host_dir_, "data"));
  absl::StatusOr<TestLayer> built = layer.Build();
  ASSERT_TRUE(built.ok()) << built.status();
  absl::StatusOr<std::string> reference = PushImageWith("symlinks", *built);
  ASSERT_TRUE(reference.ok()) << reference.status();

  std::string volume = JoinPath(host_dir_, "volume");
  ASSERT_TRUE(MakeDirs(volume).ok());
  ASSERT_TRUE(WriteFile(JoinPath(volume, "file"), "VOLUME\n").ok());
  v1::ContainerConfig config = ContainerConfig(
      "symlinks", {"sh", "-c",
                   "head -1 /proc/self/status; cat /etc/hosts; ls /dev/null; "
                   "cat /data/vol/file; ls /sys/kernel >/dev/null && echo sys=ok"});
  config.mutable_image()->set_image(*reference);
  auto* mount = config.add_mounts();
  mount->set_container_path("/data/vol");
  mount->set_host_path(volume);
  absl::StatusOr<std::string> out = RunToExit(config);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(absl::StrContains(*out, "Name:")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "/dev/null")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "VOLUME")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "sys=ok")) << *out;
  EXPECT_FALSE(absl::StrContains(*out, "HOSTFILE")) << *out;

  // Nothing was created, mounted or changed in the host folder.
  EXPECT_EQ(ListDir(host_dir_), (std::vector<std::string>{"hosts", "volume"}));
  EXPECT_EQ(ListDir(volume), std::vector<std::string>{"file"});
  absl::StatusOr<std::string> hosts = ReadFile(JoinPath(host_dir_, "hosts"));
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(*hosts, "HOSTFILE\n");
  EXPECT_TRUE(MountsBelow(host_dir_).empty());
}

TEST_F(SecurityEscapeTest, MaskedPathReplacedBySymlinkUnmasksNothing) {
  StartPod("masked");
  ASSERT_TRUE(WriteFile(JoinPath(host_dir_, "secret"), "HOSTSECRET\n").ok());
  LayerBuilder layer;
  layer.Dir("etc")
      .File("etc/real-secret", "IMAGESECRET\n")
      .Symlink("etc/secret", "/etc/real-secret")
      .Symlink("etc/host-secret", JoinPath(host_dir_, "secret"));
  absl::StatusOr<TestLayer> built = layer.Build();
  ASSERT_TRUE(built.ok()) << built.status();
  absl::StatusOr<std::string> reference = PushImageWith("masked", *built);
  ASSERT_TRUE(reference.ok()) << reference.status();

  v1::ContainerConfig config = ContainerConfig(
      "masked", {"sh", "-c",
                 "cat /etc/secret /etc/real-secret /etc/host-secret 2>&1; "
                 "echo timer=$(wc -c < /proc/timer_list)"});
  config.mutable_image()->set_image(*reference);
  auto* sc = config.mutable_linux()->mutable_security_context();
  for (const char* path : {"/etc/secret", "/etc/host-secret", "/proc/timer_list"}) {
    sc->add_masked_paths(path);
  }
  absl::StatusOr<std::string> out = RunToExit(config);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(absl::StrContains(*out, "IMAGESECRET")) << *out;
  EXPECT_FALSE(absl::StrContains(*out, "HOSTSECRET")) << *out;
  EXPECT_TRUE(absl::StrContains(*out, "timer=0")) << *out;
  absl::StatusOr<std::string> secret = ReadFile(JoinPath(host_dir_, "secret"));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(*secret, "HOSTSECRET\n");
  EXPECT_TRUE(MountsBelow(host_dir_).empty());
}

}  // namespace
}  // namespace berth::e2e
