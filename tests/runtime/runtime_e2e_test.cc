// Root tests of the runtime alone: real shims, real namespaces, mounts and cgroups, on a rootfs
// made from Debian's busybox-static. Each test uses its own temporary directory and cgroup
// parent, and checks that no cgroup, mount or process is left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/id.h"
#include "runtime/linux/cgroups.h"
#include "runtime/runtime.h"

namespace berth::runtime {
namespace {

constexpr char kBusybox[] = "/bin/busybox";
// CapEff of a root process with DefaultCapabilityNames().
constexpr char kDefaultCapMask[] = "00000000a80425fb";

std::string BinDir() {
  const char* dir = std::getenv("BERTH_BIN_DIR");
  if (dir != nullptr) return dir;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return ".";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.find_last_of('/'));
}

bool ProcessAlive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

class RuntimeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!PathExists(kBusybox)) GTEST_SKIP() << "needs busybox-static";
    char tmpl[] = "/tmp/berth-runtime-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    cgroup_parent_ = absl::StrCat("berth-test-", NewId().substr(0, 12));
    RuntimeOptions options;
    options.state_dir = JoinPath(tmp_, "shims");
    options.shim_path = JoinPath(BinDir(), "berth-shim");
    ASSERT_TRUE(PathExists(options.shim_path)) << options.shim_path;
    options_ = options;
    runtime_ = std::make_unique<Runtime>(options);
    MakeBusyboxRootfs(JoinPath(tmp_, "rootfs"));
  }

  void TearDown() override {
    if (tmp_.empty()) return;
    for (const std::string& id : ids_) {
      (void)runtime_->Kill(id, SIGKILL, true);
      (void)runtime_->Wait(id, absl::Seconds(5));
      EXPECT_TRUE(runtime_->Delete(id).ok()) << id;
    }
    if (!netns_file_.empty()) ::umount2(netns_file_.c_str(), MNT_DETACH);
    ExpectNoMountsBelow(tmp_);
    auto layout = DetectCgroupLayout();
    if (layout.ok()) {
      auto dirs = CgroupDirsFor(*layout, cgroup_parent_);
      if (dirs.ok()) {
        EXPECT_TRUE(RemoveCgroupDirs(*dirs).ok());
      }
    }
    EXPECT_TRUE(RemoveAll(tmp_).ok());
  }

  static void MakeBusyboxRootfs(const std::string& root) {
    ASSERT_TRUE(MakeDirs(JoinPath(root, "bin")).ok());
    for (const char* dir : {"proc", "sys", "dev", "etc", "tmp"}) {
      ASSERT_TRUE(MakeDirs(JoinPath(root, dir)).ok());
    }
    auto binary = ReadFile(kBusybox);
    ASSERT_TRUE(binary.ok());
    ASSERT_TRUE(WriteFile(JoinPath(root, "bin/busybox"), *binary, 0755).ok());
    FILE* list = ::popen("/bin/busybox --list", "r");
    ASSERT_NE(list, nullptr);
    char name[256];
    while (std::fgets(name, sizeof(name), list) != nullptr) {
      std::string applet(name);
      while (!applet.empty() && applet.back() == '\n') applet.pop_back();
      if (applet.empty() || applet == "busybox") continue;
      ::symlink("busybox", JoinPath(root, JoinPath("bin", applet)).c_str());
    }
    ::pclose(list);
  }

  static void ExpectNoMountsBelow(const std::string& dir) {
    auto mountinfo = ReadFile("/proc/self/mountinfo");
    ASSERT_TRUE(mountinfo.ok());
    EXPECT_EQ(mountinfo->find(dir), std::string::npos) << "mount left below " << dir;
  }

  // A spec for a busybox container in new namespaces, in this test's cgroup parent.
  Spec BusyboxSpec(const std::string& id, std::vector<std::string> args) {
    Spec spec = BaseSpec();
    spec.process.args = std::move(args);
    spec.root.path = JoinPath(tmp_, "rootfs");
    spec.hostname = "berth-test";
    spec.linux.cgroups_path = absl::StrCat("/", cgroup_parent_, "/", id);
    spec.linux.resources.memory.limit = 64 << 20;
    spec.linux.resources.pids.limit = 100;
    return spec;
  }

  CreateRequest Request(const std::string& id, Spec spec) {
    CreateRequest request;
    request.id = id;
    request.bundle_dir = JoinPath(tmp_, JoinPath("bundles", id));
    request.spec = std::move(spec);
    request.log_path = JoinPath(tmp_, JoinPath("logs", id + ".log"));
    return request;
  }

  absl::StatusOr<ContainerState> CreateAndStart(const std::string& id, Spec spec) {
    ids_.push_back(id);
    auto state = runtime_->Create(Request(id, std::move(spec)));
    if (!state.ok()) return state;
    absl::Status started = runtime_->Start(id);
    if (!started.ok()) return started;
    return runtime_->State(id);
  }

  std::string ReadLogWhenContains(const std::string& id, const std::string& text) {
    std::string path = JoinPath(tmp_, JoinPath("logs", id + ".log"));
    for (int i = 0; i < 250; ++i) {
      auto content = ReadFile(path);
      if (content.ok() && content->find(text) != std::string::npos) return *content;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto content = ReadFile(path);
    return content.ok() ? *content : "";
  }

  std::vector<std::string> CgroupPaths(const std::string& id) {
    auto layout = DetectCgroupLayout();
    EXPECT_TRUE(layout.ok());
    auto dirs = CgroupDirsFor(*layout, absl::StrCat("/", cgroup_parent_, "/", id));
    EXPECT_TRUE(dirs.ok());
    std::vector<std::string> paths;
    for (const CgroupDir& dir : *dirs) paths.push_back(dir.path);
    return paths;
  }

  std::string tmp_;
  std::string cgroup_parent_;
  std::string netns_file_;
  RuntimeOptions options_;
  std::unique_ptr<Runtime> runtime_;
  std::vector<std::string> ids_;
};

TEST_F(RuntimeE2eTest, RunsLogsExecsAndCleansUp) {
  Spec spec = BusyboxSpec("c1", {"sh", "-c", "echo hello; sleep 60"});
  auto created = runtime_->Create(Request("c1", spec));
  ids_.push_back("c1");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->status, ContainerStatus::kCreated);
  pid_t pid = created->pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessAlive(pid));
  for (const std::string& dir : CgroupPaths("c1")) {
    auto procs = ReadFile(JoinPath(dir, "cgroup.procs"));
    ASSERT_TRUE(procs.ok()) << dir;
    EXPECT_NE(procs->find(absl::StrCat(pid)), std::string::npos) << dir;
  }
  auto limit =
      ReadFile(absl::StrCat("/sys/fs/cgroup/memory/", cgroup_parent_, "/c1/memory.limit_in_bytes"));
  if (limit.ok()) {
    EXPECT_EQ(*limit, "67108864\n");
  }

  ASSERT_TRUE(runtime_->Start("c1").ok());
  std::string log = ReadLogWhenContains("c1", "hello");
  std::regex line(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello\n$)");
  EXPECT_TRUE(std::regex_match(log, line)) << log;

  auto hostname =
      runtime_->ExecSync("c1", ExecProcessFor(spec.process, {"hostname"}), absl::Seconds(10));
  ASSERT_TRUE(hostname.ok()) << hostname.status();
  EXPECT_EQ(hostname->stdout_data, "berth-test\n");
  EXPECT_EQ(hostname->exit_code, 0);

  auto status = runtime_->ExecSync("c1", ExecProcessFor(spec.process, {"cat", "/proc/self/status"}),
                                   absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_NE(status->stdout_data.find(absl::StrCat("CapEff:\t", kDefaultCapMask)), std::string::npos)
      << status->stdout_data;
  EXPECT_NE(status->stdout_data.find(absl::StrCat("CapBnd:\t", kDefaultCapMask)),
            std::string::npos);

  auto pid_one = runtime_->ExecSync("c1", ExecProcessFor(spec.process, {"cat", "/proc/1/cmdline"}),
                                    absl::Seconds(10));
  ASSERT_TRUE(pid_one.ok());
  // ash runs the last command of -c in its own process, so pid 1 of the new namespace is sleep.
  EXPECT_EQ(pid_one->stdout_data.substr(0, 5), "sleep") << "new pid namespace";

  // Rotation as kubelet does it: rename, then ask for a new file.
  std::string log_path = JoinPath(tmp_, "logs/c1.log");
  ASSERT_EQ(::rename(log_path.c_str(), (log_path + ".1").c_str()), 0);
  ASSERT_TRUE(runtime_->ReopenLog("c1").ok());
  EXPECT_TRUE(PathExists(log_path));

  ASSERT_TRUE(runtime_->Kill("c1", SIGKILL).ok());
  auto stopped = runtime_->Wait("c1", absl::Seconds(10));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->status, ContainerStatus::kStopped);
  EXPECT_EQ(stopped->signal, SIGKILL);
  EXPECT_EQ(stopped->exit_code, 128 + SIGKILL);
  EXPECT_GT(stopped->finished_at, stopped->started_at);
  EXPECT_FALSE(stopped->oom_killed);

  ASSERT_TRUE(runtime_->Delete("c1").ok());
  ASSERT_TRUE(runtime_->Delete("c1").ok()) << "Delete is idempotent";
  ids_.clear();
  EXPECT_FALSE(ProcessAlive(pid));
  for (const std::string& dir : CgroupPaths("c1")) EXPECT_FALSE(PathExists(dir)) << dir;
  EXPECT_FALSE(PathExists(JoinPath(options_.state_dir, "c1")));
  ExpectNoMountsBelow(tmp_);
  EXPECT_EQ(runtime_->State("c1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RuntimeE2eTest, MissingExecutableFailsCreate) {
  auto created = runtime_->Create(Request("bad", BusyboxSpec("bad", {"/no/such"})));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kNotFound) << created.status();
  EXPECT_NE(created.status().message().find("exec: \"/no/such\": no such file or directory"),
            std::string::npos)
      << created.status();
  EXPECT_FALSE(PathExists(JoinPath(options_.state_dir, "bad")));
  for (const std::string& dir : CgroupPaths("bad")) EXPECT_FALSE(PathExists(dir)) << dir;
  ExpectNoMountsBelow(tmp_);
}

TEST_F(RuntimeE2eTest, ExecSyncOutputAndTimeout) {
  Spec spec = BusyboxSpec("c2", {"sleep", "60"});
  auto state = CreateAndStart("c2", spec);
  ASSERT_TRUE(state.ok()) << state.status();

  auto result = runtime_->ExecSync(
      "c2", ExecProcessFor(spec.process, {"sh", "-c", "echo out; echo err >&2; exit 3"}),
      absl::Seconds(10));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data, "out\n");
  EXPECT_EQ(result->stderr_data, "err\n");
  EXPECT_EQ(result->exit_code, 3);

  auto missing = runtime_->ExecSync("c2", ExecProcessFor(spec.process, {"nope"}), absl::Seconds(5));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("exec: \"nope\": executable file not found in $PATH"),
            std::string::npos)
      << missing.status();

  auto begin = std::chrono::steady_clock::now();
  auto slow =
      runtime_->ExecSync("c2", ExecProcessFor(spec.process, {"sleep", "60"}), absl::Seconds(1));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 3.0);

  // Only the container's own process is left in its cgroup.
  auto procs = ReadFile(JoinPath(CgroupPaths("c2")[0], "cgroup.procs"));
  ASSERT_TRUE(procs.ok());
  EXPECT_EQ(*procs, absl::StrCat(state->pid, "\n"));
}

TEST_F(RuntimeE2eTest, StateAfterRestart) {
  auto state = CreateAndStart("c3", BusyboxSpec("c3", {"sh", "-c", "sleep 60"}));
  ASSERT_TRUE(state.ok()) << state.status();

  // A new Runtime object is what berthd has after a restart.
  Runtime restarted(options_);
  auto seen = restarted.State("c3");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->status, ContainerStatus::kRunning);
  EXPECT_EQ(seen->pid, state->pid);
  auto ids = restarted.List();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{"c3"});

  ASSERT_TRUE(restarted.Kill("c3", SIGKILL, true).ok());
  auto stopped = restarted.Wait("c3", absl::Seconds(10));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->status, ContainerStatus::kStopped);

  // Once the shim is gone, its exit record gives the state.
  for (int i = 0; i < 250 && PathExists(JoinPath(options_.state_dir, "c3/shim.sock")); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Runtime again(options_);
  auto recorded = again.State("c3");
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->status, ContainerStatus::kStopped);
  EXPECT_EQ(recorded->exit_code, 137);
  EXPECT_TRUE(again.Kill("c3", SIGTERM).ok()) << "a stopped container takes signals as a no-op";
}

TEST_F(RuntimeE2eTest, DeleteOfCreatedContainer) {
  ids_.push_back("c4");
  auto created = runtime_->Create(Request("c4", BusyboxSpec("c4", {"sleep", "60"})));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(runtime_->Start("c4").ok(), true);
  EXPECT_EQ(runtime_->Delete("c4").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(runtime_->Kill("c4", SIGKILL).ok());
  ASSERT_TRUE(runtime_->Wait("c4", absl::Seconds(10)).ok());

  ids_.push_back("c5");
  auto blocked = runtime_->Create(Request("c5", BusyboxSpec("c5", {"sleep", "60"})));
  ASSERT_TRUE(blocked.ok()) << blocked.status();
  ASSERT_TRUE(runtime_->Delete("c5").ok());
  EXPECT_FALSE(ProcessAlive(blocked->pid));
  for (const std::string& dir : CgroupPaths("c5")) EXPECT_FALSE(PathExists(dir)) << dir;
}

TEST_F(RuntimeE2eTest, PauseAndAppShareNamespaces) {
  // Pin a network namespace in a file of this test, as the network module pins a pod's.
  netns_file_ = JoinPath(tmp_, "netns");
  ASSERT_TRUE(WriteFile(netns_file_, "").ok());
  pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  std::string holder_ns = absl::StrCat("/proc/", holder, "/ns/net");
  bool pinned = false;
  for (int i = 0; i < 100 && !pinned; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    char own[64] = {}, other[64] = {};
    ::readlink("/proc/self/ns/net", own, sizeof(own) - 1);
    ::readlink(holder_ns.c_str(), other, sizeof(other) - 1);
    if (std::string(own) != other) {
      pinned = ::mount(holder_ns.c_str(), netns_file_.c_str(), nullptr, MS_BIND, nullptr) == 0;
    }
  }
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  ASSERT_TRUE(pinned);

  // (a) The pause container: an empty rootfs with berth-pause bound in read-only.
  std::string pause_root = JoinPath(tmp_, "pause-rootfs");
  ASSERT_TRUE(MakeDirs(pause_root).ok());
  Spec pause = BaseSpec();
  pause.process.args = {"/pause"};
  pause.root = {pause_root, true};
  pause.hostname = "pod-host";
  pause.mounts.push_back({"/pause", "bind", JoinPath(BinDir(), "berth-pause"), {"rbind", "ro"}});
  pause.linux.namespaces = {
      {"pid", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}, {"network", netns_file_}};
  pause.linux.cgroups_path = absl::StrCat("/", cgroup_parent_, "/pause");
  auto pause_state = CreateAndStart("pause", pause);
  ASSERT_TRUE(pause_state.ok()) << pause_state.status();

  // (b) An app container joining the pause's network, IPC and UTS namespaces.
  std::string ns = absl::StrCat("/proc/", pause_state->pid, "/ns/");
  Spec app = BusyboxSpec("app", {"sleep", "60"});
  app.hostname.clear();
  app.linux.namespaces = {{"pid", ""},
                          {"mount", ""},
                          {"network", ns + "net"},
                          {"ipc", ns + "ipc"},
                          {"uts", ns + "uts"}};
  auto app_state = CreateAndStart("app", app);
  ASSERT_TRUE(app_state.ok()) << app_state.status();

  auto hostname =
      runtime_->ExecSync("app", ExecProcessFor(app.process, {"hostname"}), absl::Seconds(10));
  ASSERT_TRUE(hostname.ok()) << hostname.status();
  EXPECT_EQ(hostname->stdout_data, "pod-host\n");
  char app_net[64] = {}, pinned_net[64] = {};
  ::readlink(absl::StrCat("/proc/", app_state->pid, "/ns/net").c_str(), app_net,
             sizeof(app_net) - 1);
  ::readlink(absl::StrCat("/proc/", pause_state->pid, "/ns/net").c_str(), pinned_net,
             sizeof(pinned_net) - 1);
  EXPECT_STREQ(app_net, pinned_net);

  ASSERT_TRUE(runtime_->Kill("app", SIGKILL).ok());
  ASSERT_TRUE(runtime_->Wait("app", absl::Seconds(10)).ok());
  ASSERT_TRUE(runtime_->Kill("pause", SIGTERM).ok());
  auto pause_end = runtime_->Wait("pause", absl::Seconds(10));
  ASSERT_TRUE(pause_end.ok()) << pause_end.status();
  EXPECT_EQ(pause_end->exit_code, 0) << "berth-pause exits 0 on SIGTERM";
}

TEST_F(RuntimeE2eTest, OverlayRootfsWithManyLayers) {
  // Enough layers that the absolute lowerdir list is over one page, so the launcher has to use
  // paths relative to their common parent.
  std::vector<std::string> lowers;
  for (int i = 0; i < 110; ++i) {
    std::string layer = JoinPath(tmp_, absl::StrCat("snapshots/", 1000 + i, "/fs"));
    ASSERT_TRUE(MakeDirs(layer).ok());
    lowers.insert(lowers.begin(), layer);
  }
  lowers.push_back(JoinPath(tmp_, "rootfs"));
  std::string lowerdir = absl::StrJoin(lowers, ":");
  ASSERT_GT(lowerdir.size(), 4096u);
  std::string upper = JoinPath(tmp_, "containers/ov/upper");
  std::string work = JoinPath(tmp_, "containers/ov/work");
  std::string mountpoint = JoinPath(tmp_, "containers/ov/rootfs");
  for (const std::string& dir : {upper, work, mountpoint}) ASSERT_TRUE(MakeDirs(dir).ok());

  Spec spec = BusyboxSpec("ov", {"sh", "-c", "echo written > /marker; cat /marker; sleep 60"});
  spec.root.path = mountpoint;
  CreateRequest request = Request("ov", spec);
  request.rootfs_mount = Mount{
      "", "overlay", "overlay", {"lowerdir=" + lowerdir, "upperdir=" + upper, "workdir=" + work}};
  ids_.push_back("ov");
  auto created = runtime_->Create(request);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(runtime_->Start("ov").ok());
  EXPECT_NE(ReadLogWhenContains("ov", "written").find("stdout F written"), std::string::npos);

  // The overlay exists only in the container's mount namespace; its writes land in upperdir.
  ExpectNoMountsBelow(tmp_);
  EXPECT_TRUE(PathExists(JoinPath(upper, "marker")));
  EXPECT_FALSE(PathExists(JoinPath(tmp_, "rootfs/marker")));
  auto mounts = ReadFile(absl::StrCat("/proc/", created->pid, "/mountinfo"));
  ASSERT_TRUE(mounts.ok());
  EXPECT_NE(mounts->find(" / / "), std::string::npos) << *mounts;
  EXPECT_NE(mounts->find("overlay"), std::string::npos);
}

TEST_F(RuntimeE2eTest, SecuritySettingsApply) {
  Spec spec = BusyboxSpec(
      "sec", {"sh", "-c",
              "cat /proc/self/status; echo limit=$(ulimit -n); echo oom=$(cat "
              "/proc/self/oom_score_adj); echo fwd=$(cat /proc/sys/net/ipv4/ip_forward); "
              "echo timers=$(wc -c < /proc/timer_list); echo x > /dev/null && echo null=ok; "
              "echo 0 > /proc/sys/net/ipv4/ip_forward || echo sysro=ok; "
              "touch /proc/acpi/x 2>/dev/null || echo masked=ok; sleep 60"});
  spec.process.user = {1000, 1000, {2000}};
  Capabilities caps;
  caps.bounding = caps.effective = caps.permitted = caps.inheritable =
      caps.ambient = {"CAP_NET_BIND_SERVICE"};
  spec.process.capabilities = caps;
  spec.process.no_new_privileges = true;
  spec.process.rlimits = {{"RLIMIT_NOFILE", 512, 512}};
  spec.process.oom_score_adj = -100;
  spec.linux.sysctl = {{"net.ipv4.ip_forward", "1"}};
  auto state = CreateAndStart("sec", spec);
  ASSERT_TRUE(state.ok()) << state.status();

  std::string log = ReadLogWhenContains("sec", "masked=");
  for (const char* expected :
       {"Uid:\t1000\t1000\t1000\t1000", "Gid:\t1000\t1000\t1000\t1000", "Groups:\t2000",
        "CapEff:\t0000000000000400", "CapBnd:\t0000000000000400", "CapAmb:\t0000000000000400",
        "NoNewPrivs:\t1", "limit=512", "oom=0", "fwd=1", "timers=0", "null=ok", "sysro=ok",
        "masked=ok"}) {
    EXPECT_NE(log.find(expected), std::string::npos) << expected << "\n" << log;
  }

  auto exec = runtime_->ExecSync("sec", ExecProcessFor(spec.process, {"cat", "/proc/self/status"}),
                                 absl::Seconds(10));
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_NE(exec->stdout_data.find("Uid:\t1000"), std::string::npos);
  EXPECT_NE(exec->stdout_data.find("CapEff:\t0000000000000400"), std::string::npos);
  EXPECT_NE(exec->stdout_data.find("NoNewPrivs:\t1"), std::string::npos);
}

TEST_F(RuntimeE2eTest, CgroupInUseFailsCreate) {
  auto first = CreateAndStart("first", BusyboxSpec("first", {"sleep", "60"}));
  ASSERT_TRUE(first.ok()) << first.status();
  Spec second = BusyboxSpec("second", {"sleep", "60"});
  second.linux.cgroups_path = absl::StrCat("/", cgroup_parent_, "/first");
  auto created = runtime_->Create(Request("second", second));
  EXPECT_EQ(created.status().code(), absl::StatusCode::kFailedPrecondition) << created.status();
  EXPECT_FALSE(PathExists(JoinPath(options_.state_dir, "second")));
  auto still = runtime_->State("first");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, ContainerStatus::kRunning);
  EXPECT_TRUE(ProcessAlive(first->pid));
}

TEST_F(RuntimeE2eTest, MountThroughSymlinkStaysInRoot) {
  // An image symlink pointing at an absolute host path must resolve inside the rootfs.
  std::string outside = JoinPath(tmp_, "outside");
  ASSERT_TRUE(MakeDirs(outside).ok());
  std::string root = JoinPath(tmp_, "rootfs");
  ASSERT_EQ(::symlink(outside.c_str(), JoinPath(root, "evil").c_str()), 0);
  Spec spec = BusyboxSpec("link", {"sh", "-c", "mount | grep -c /evil/data; sleep 60"});
  spec.mounts.push_back({"/evil/data", "tmpfs", "tmpfs", {"nosuid"}});
  auto state = CreateAndStart("link", spec);
  ASSERT_TRUE(state.ok()) << state.status();

  EXPECT_FALSE(PathExists(JoinPath(outside, "data"))) << "created outside the rootfs";
  EXPECT_TRUE(PathExists(JoinPath(root, JoinPath(outside, "data"))));
  ExpectNoMountsBelow(tmp_);
  auto mounts = ReadFile(absl::StrCat("/proc/", state->pid, "/mountinfo"));
  ASSERT_TRUE(mounts.ok());
  EXPECT_NE(mounts->find(JoinPath(outside, "data")), std::string::npos) << *mounts;
}

TEST_F(RuntimeE2eTest, OomKillIsRecorded) {
  Spec spec =
      BusyboxSpec("oom", {"sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' x); echo $x"});
  spec.linux.resources.memory.limit = 16 << 20;
  auto state = CreateAndStart("oom", spec);
  ASSERT_TRUE(state.ok()) << state.status();
  auto stopped = runtime_->Wait("oom", absl::Seconds(60));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->signal, SIGKILL);
  EXPECT_TRUE(stopped->oom_killed);
  EXPECT_EQ(stopped->reason, "OOMKilled");
}

TEST_F(RuntimeE2eTest, ShimKilledLeavesNothingAfterDelete) {
  auto state = CreateAndStart("gone", BusyboxSpec("gone", {"sleep", "60"}));
  ASSERT_TRUE(state.ok()) << state.status();
  auto shim_pid = ReadFile(JoinPath(options_.state_dir, "gone/shim.pid"));
  ASSERT_TRUE(shim_pid.ok());
  ASSERT_EQ(::kill(std::stoi(*shim_pid), SIGKILL), 0);
  for (int i = 0; i < 100 && ProcessAlive(std::stoi(*shim_pid)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  auto seen = runtime_->State("gone");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->status, ContainerStatus::kUnknown);
  EXPECT_EQ(seen->reason, "ShimGone");
  ASSERT_TRUE(runtime_->Kill("gone", SIGKILL, true).ok());
  ASSERT_TRUE(runtime_->Delete("gone").ok());
  ids_.clear();
  for (int i = 0; i < 100 && ProcessAlive(state->pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto status = ReadFile(absl::StrCat("/proc/", state->pid, "/status"));
  EXPECT_TRUE(!status.ok() || status->find("State:\tZ") != std::string::npos)
      << "container process still running";
  for (const std::string& dir : CgroupPaths("gone")) EXPECT_FALSE(PathExists(dir)) << dir;
}

}  // namespace
}  // namespace berth::runtime
