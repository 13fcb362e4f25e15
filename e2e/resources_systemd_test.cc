// The systemd cgroup driver end to end: berthd with cgroup_driver = "systemd" starts a pod's
// slice and each container's scope through systemd's manager on the system bus, and stops them on
// removal. systemd cannot run on the test hosts, so the bus is a private dbus-daemon and the
// manager on it is berth-fake-systemd, a stand-in that records every call
// (e2e/support/fake_systemd.h). berthd finds the bus through DBUS_SYSTEM_BUS_ADDRESS. Like systemd,
// the stand-in puts each scope's PIDs into the scope's cgroup (here in the pids hierarchy only),
// which must be the very cgroup Berth made, so the container stays where its limits are.
// Without a bus the driver must keep working through cgroupfs alone.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/id.h"
#include "e2e/support/cri_fixture.h"
#include "e2e/support/fake_systemd.h"

namespace berth::e2e {
namespace {

constexpr int64_t kMiB = 1 << 20;
constexpr char kPidsHierarchy[] = "/sys/fs/cgroup/pids";

// Returns `dir` and every folder below it, deepest first.
std::vector<std::string> FoldersDeepestFirst(const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& name : ListDir(dir)) {
    std::string child = JoinPath(dir, name);
    if (::access(JoinPath(child, "cgroup.procs").c_str(), F_OK) != 0) continue;
    std::vector<std::string> below = FoldersDeepestFirst(child);
    out.insert(out.end(), below.begin(), below.end());
  }
  out.push_back(dir);
  return out;
}

// Returns the path of `pid`'s cgroup in the v1 hierarchy of `controller`, "" when unknown.
std::string CgroupOfPid(pid_t pid, const std::string& controller) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    for (absl::string_view name : absl::StrSplit(parts[1], ',')) {
      if (name == controller) return parts[2];
    }
  }
  return "";
}

std::vector<std::string> NamesOf(const std::vector<nlohmann::json>& calls) {
  std::vector<std::string> names;
  for (const nlohmann::json& call : calls) names.push_back(call.value("name", ""));
  return names;
}

class SystemdDriverTest : public CriTest {
 protected:
  explicit SystemdDriverTest(bool bus_present = true) : bus_present_(bus_present) {}

  void SetUp() override {
    // "berthsd<hex>.slice" at the top of each hierarchy contains everything the test makes.
    std::string hex = NewId().substr(0, 12);
    top_slice_ = absl::StrCat("berthsd", hex, ".slice");
    pod_slice_ = absl::StrCat("berthsd", hex, "-pod.slice");
    ASSERT_TRUE(CgroupDirsOf("/" + top_slice_).empty()) << top_slice_ << " exists already";

    FakeSystemdOptions options;
    options.start_manager = bus_present_;
    options.cgroup_root = kPidsHierarchy;
    absl::StatusOr<std::unique_ptr<FakeSystemd>> fake = FakeSystemd::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    std::string address = bus_present_ ? fake_->address() : fake_->AbsentAddress();
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
    CriTest::SetUp();
  }

  void TearDown() override {
    CriTest::TearDown();
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    RemoveTestSlices();
    if (fake_ && HasFailure()) std::fprintf(stderr, "%s\n", fake_->Logs().c_str());
    fake_.reset();
  }

  TestDaemonOptions DaemonOptions() override {
    TestDaemonOptions options;
    options.config_toml = "[runtime]\ncgroup_driver = \"systemd\"\n";
    return options;
  }

  // The expanded cgroup path of the pod's slice, and of a scope in it.
  std::string PodSlicePath() const { return absl::StrCat("/", top_slice_, "/", pod_slice_); }
  std::string ScopePath(const std::string& id) const {
    return absl::StrCat(PodSlicePath(), "/berth-", id, ".scope");
  }

  v1::PodSandboxConfig SlicePodConfig(const std::string& name) {
    v1::PodSandboxConfig pod = PodConfig(name);
    pod.mutable_linux()->set_cgroup_parent(pod_slice_);
    return pod;
  }

  static v1::LinuxContainerResources Limits() {
    v1::LinuxContainerResources resources;
    resources.set_memory_limit_in_bytes(64 * kMiB);
    resources.set_cpu_shares(512);
    resources.set_cpu_quota(25000);
    resources.set_cpu_period(100000);
    return resources;
  }

  absl::StatusOr<std::string> RunSleeper(const std::string& pod_id,
                                         const v1::PodSandboxConfig& pod) {
    v1::ContainerConfig config = ContainerConfig("sleeper", {"sleep", "60"});
    *config.mutable_linux()->mutable_resources() = Limits();
    return StartNewContainer(pod_id, config, pod);
  }

  static std::string ReadTrimmed(const std::string& path) {
    absl::StatusOr<std::string> text = ReadFile(path);
    if (!text.ok()) return absl::StrCat("<", text.status().ToString(), ">");
    return std::string(absl::StripAsciiWhitespace(*text));
  }

  FakeSystemd& fake() { return *fake_; }
  const std::string& pod_slice() const { return pod_slice_; }

 private:
  // Last resort: kills what still runs in the test's slices, then removes their folders.
  void RemoveTestSlices() {
    std::vector<std::string> tops = CgroupDirsOf("/" + top_slice_);
    for (const std::string& top : tops) {
      for (const std::string& dir : FoldersDeepestFirst(top)) {
        std::ifstream procs(JoinPath(dir, "cgroup.procs"));
        pid_t pid = 0;
        while (procs >> pid) {
          std::fprintf(stderr, "cleanup: killing pid %d in %s\n", pid, dir.c_str());
          ::kill(pid, SIGKILL);
        }
      }
    }
    for (const std::string& top : tops) {
      for (const std::string& dir : FoldersDeepestFirst(top)) {
        for (int attempt = 0; attempt < 100 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY;
             ++attempt) {
          std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
      }
    }
    std::vector<std::string> left = CgroupDirsOf("/" + top_slice_);
    EXPECT_TRUE(left.empty()) << "cgroup left behind: " << left.front();
  }

  bool bus_present_;
  std::unique_ptr<FakeSystemd> fake_;
  std::string top_slice_;
  std::string pod_slice_;
};

class SystemdDriverNoBusTest : public SystemdDriverTest {
 protected:
  SystemdDriverNoBusTest() : SystemdDriverTest(/*bus_present=*/false) {}
};

TEST_F(SystemdDriverTest, PodSliceAndContainerScopeGoThroughSystemd) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = SlicePodConfig("sd");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> id = RunSleeper(*pod_id, pod);
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<pid_t> pid = ContainerPid(*id);
  ASSERT_TRUE(pid.ok()) << pid.status();
  absl::StatusOr<pid_t> pause = PausePid(*pod_id);
  ASSERT_TRUE(pause.ok()) << pause.status();

  std::vector<nlohmann::json> starts = fake().Calls("StartTransientUnit");
  std::string pod_scope = absl::StrCat("berth-", *pod_id, ".scope");
  std::string container_scope = absl::StrCat("berth-", *id, ".scope");
  ASSERT_EQ(NamesOf(starts), (std::vector<std::string>{pod_slice(), pod_scope, container_scope}));

  const nlohmann::json& slice = starts[0];
  EXPECT_EQ(slice["mode"], "replace");
  EXPECT_TRUE(slice["properties"].contains("Description")) << slice;
  EXPECT_FALSE(slice["properties"].contains("PIDs")) << slice;
  EXPECT_EQ(slice["cgroup"], PodSlicePath());

  const nlohmann::json& pause_call = starts[1];
  EXPECT_EQ(pause_call["properties"]["Slice"], pod_slice());
  EXPECT_EQ(pause_call["properties"]["PIDs"], nlohmann::json({*pause}));

  const nlohmann::json& scope = starts[2];
  const nlohmann::json& properties = scope["properties"];
  EXPECT_EQ(properties["Slice"], pod_slice());
  EXPECT_EQ(properties["Delegate"], true);
  EXPECT_EQ(properties["PIDs"], nlohmann::json({*pid}));
  EXPECT_TRUE(properties.contains("Description"));
  // This host has cgroup v1 controllers, so the v1 names carry the CRI limits.
  EXPECT_EQ(properties["MemoryLimit"], 64 * kMiB);
  EXPECT_EQ(properties["CPUShares"], 512);
  EXPECT_EQ(properties["CPUQuotaPerSecUSec"], 250000);
  EXPECT_EQ(scope["result"], "done");

  // The stand-in moved the pid into the scope's cgroup, which is where Berth put it, and Berth
  // still wrote the limits itself.
  EXPECT_EQ(scope["cgroup"], ScopePath(*id));
  EXPECT_EQ(scope["moved"], nlohmann::json({*pid}));
  EXPECT_EQ(CgroupOfPid(*pid, "pids"), ScopePath(*id));
  EXPECT_EQ(CgroupOfPid(*pid, "memory"), ScopePath(*id));
  EXPECT_EQ(ReadTrimmed(JoinPath("/sys/fs/cgroup/memory",
                                 JoinPath(ScopePath(*id).substr(1), "memory.limit_in_bytes"))),
            absl::StrCat(64 * kMiB));

  RemoveEverything();
  std::vector<nlohmann::json> stops = fake().Calls("StopUnit");
  std::vector<std::string> stopped = NamesOf(stops);
  ASSERT_EQ(stopped.size(), 3u) << nlohmann::json(stops).dump();
  // Both scopes first (in the order the containers went), the pod's slice last.
  EXPECT_NE(std::find(stopped.begin(), stopped.end(), container_scope), stopped.end());
  EXPECT_NE(std::find(stopped.begin(), stopped.end(), pod_scope), stopped.end());
  EXPECT_EQ(stopped.back(), pod_slice());
  for (const nlohmann::json& stop : stops) {
    EXPECT_EQ(stop["mode"], "replace");
    EXPECT_EQ(stop["result"], "done") << stop;
  }
  EXPECT_TRUE(CgroupDirsOf(PodSlicePath()).empty());
}

TEST_F(SystemdDriverTest, RefusedScopeFailsCreateAndLeavesNothing) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = SlicePodConfig("sdfail");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();

  // From now on every scope's job ends in "failed".
  ASSERT_TRUE(fake().SetFailUnit(".scope").ok());
  v1::ContainerConfig config = ContainerConfig("refused", {"sleep", "60"});
  absl::StatusOr<std::string> id = CreateContainer(*pod_id, config, pod);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition) << id.status();
  EXPECT_TRUE(absl::StrContains(id.status().message(), "systemd StartTransientUnit \"berth-"))
      << id.status();
  EXPECT_TRUE(absl::StrContains(id.status().message(), "\"failed\"")) << id.status();

  // Only the pause's scope is left in the pod's slice; no container is listed.
  std::string slice_dir = JoinPath(kPidsHierarchy, PodSlicePath().substr(1));
  std::vector<std::string> scopes;
  for (const std::string& name : ListDir(slice_dir)) {
    if (absl::EndsWith(name, ".scope")) scopes.push_back(name);
  }
  EXPECT_EQ(scopes, std::vector<std::string>{absl::StrCat("berth-", *pod_id, ".scope")});
  v1::ListContainersResponse listed;
  ASSERT_TRUE(runtime().ListContainers(NewClientContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
  ASSERT_TRUE(fake().SetFailUnit("").ok());
}

TEST_F(SystemdDriverNoBusTest, WithoutABusCgroupfsAloneStillWorks) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = SlicePodConfig("nobus");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> id = RunSleeper(*pod_id, pod);
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<pid_t> pid = ContainerPid(*id);
  ASSERT_TRUE(pid.ok()) << pid.status();

  EXPECT_EQ(CgroupOfPid(*pid, "pids"), ScopePath(*id));
  EXPECT_EQ(ReadTrimmed(JoinPath("/sys/fs/cgroup/cpu",
                                 JoinPath(ScopePath(*id).substr(1), "cpu.shares"))),
            "512");
  EXPECT_TRUE(fake().Calls().empty());

  RemoveEverything();
  EXPECT_TRUE(CgroupDirsOf(PodSlicePath()).empty());
  // berthd warned once, however many units it could not start or stop.
  std::string log = daemon().ReadLog();
  size_t warnings = 0;
  for (size_t at = log.find("systemd is not reachable"); at != std::string::npos;
       at = log.find("systemd is not reachable", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << log;
}

}  // namespace
}  // namespace berth::e2e
