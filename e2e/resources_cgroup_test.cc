// Container resources end to end. The limits of CreateContainer and UpdateContainerResources are
// read from the container's cgroup files on the host, and oom_score_adj inside the container.
// A container killed by the OOM killer must report OOMKilled. RuntimeConfig must report the
// configured cgroup driver, and systemd slices must name their scopes as the kubelet expects.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/cri_fixture.h"
#include "e2e/support/daemon.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kMiB = 1 << 20;

class ResourcesCgroupTest : public CriTest {
 protected:
  // Reads <hierarchy>/<cgroup>/<file> on the host, trimmed.
  static std::string ReadCgroupFile(const std::string& hierarchy, const std::string& cgroup,
                                    const std::string& file) {
    std::string path = JoinPath(JoinPath(JoinPath("/sys/fs/cgroup", hierarchy),
                                         cgroup.substr(1)),
                                file);
    absl::StatusOr<std::string> text = ReadFile(path);
    if (!text.ok()) return absl::StrCat("<", text.status().ToString(), ">");
    return std::string(absl::StripAsciiWhitespace(*text));
  }

  std::string ContainerCgroup(const std::string& id) { return cgroup_parent() + "/" + id; }

  // Runs `script` in a new container of `pod_id` and returns the container's id.
  absl::StatusOr<std::string> Run(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                                  const std::string& name, const std::string& script,
                                  const v1::LinuxContainerResources& resources) {
    v1::ContainerConfig config = ContainerConfig(name, {"sh", "-c", script});
    *config.mutable_linux()->mutable_resources() = resources;
    return StartNewContainer(pod_id, config, pod);
  }

  std::string Exec(const std::string& id, const std::string& script) {
    absl::StatusOr<v1::ExecSyncResponse> out = ExecSync(id, {"sh", "-c", script}, 10);
    if (!out.ok()) return absl::StrCat("<", out.status().ToString(), ">");
    return std::string(absl::StripAsciiWhitespace(out->stdout()));
  }
};

TEST_F(ResourcesCgroupTest, LimitsReachCgroupFiles) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("limits");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();

  v1::LinuxContainerResources resources;
  resources.set_memory_limit_in_bytes(64 * kMiB);
  resources.set_memory_swap_limit_in_bytes(64 * kMiB);
  resources.set_cpu_shares(512);
  resources.set_cpu_quota(20000);
  resources.set_cpu_period(100000);
  resources.set_cpuset_cpus("0");
  resources.set_cpuset_mems("0");
  auto* hugepage = resources.add_hugepage_limits();
  hugepage->set_page_size("2MB");
  hugepage->set_limit(4 * kMiB);
  absl::StatusOr<std::string> id = Run(*pod_id, pod, "limited", "sleep 60", resources);
  ASSERT_TRUE(id.ok()) << id.status();

  std::string cgroup = ContainerCgroup(*id);
  EXPECT_EQ(ReadCgroupFile("memory", cgroup, "memory.limit_in_bytes"),
            absl::StrCat(64 * kMiB));
  EXPECT_EQ(ReadCgroupFile("memory", cgroup, "memory.memsw.limit_in_bytes"),
            absl::StrCat(64 * kMiB));
  EXPECT_EQ(ReadCgroupFile("cpu", cgroup, "cpu.shares"), "512");
  EXPECT_EQ(ReadCgroupFile("cpu", cgroup, "cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(ReadCgroupFile("cpu", cgroup, "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(ReadCgroupFile("cpuset", cgroup, "cpuset.cpus"), "0");
  EXPECT_EQ(ReadCgroupFile("cpuset", cgroup, "cpuset.mems"), "0");
  // On this hybrid layout hugetlb lives only in the cgroup2 mount.
  EXPECT_EQ(ReadCgroupFile("unified", cgroup, "hugetlb.2MB.max"), absl::StrCat(4 * kMiB));

  // The container's process sits in that cgroup.
  absl::StatusOr<pid_t> pid = ContainerPid(*id);
  ASSERT_TRUE(pid.ok()) << pid.status();
  absl::StatusOr<std::string> proc_cgroup = ReadFile(absl::StrCat("/proc/", *pid, "/cgroup"));
  ASSERT_TRUE(proc_cgroup.ok());
  EXPECT_NE(proc_cgroup->find(absl::StrCat("memory:", cgroup)), std::string::npos)
      << *proc_cgroup;
}

TEST_F(ResourcesCgroupTest, UpdateChangesRunningContainer) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("update");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  v1::LinuxContainerResources initial;
  initial.set_memory_limit_in_bytes(64 * kMiB);
  initial.set_cpu_quota(20000);
  initial.set_cpu_period(100000);
  absl::StatusOr<std::string> id = Run(*pod_id, pod, "updated", "sleep 60", initial);
  ASSERT_TRUE(id.ok()) << id.status();

  v1::UpdateContainerResourcesRequest request;
  request.set_container_id(*id);
  request.mutable_linux()->set_memory_limit_in_bytes(128 * kMiB);
  request.mutable_linux()->set_cpu_quota(50000);
  request.mutable_linux()->set_cpu_period(100000);
  request.mutable_linux()->set_cpu_shares(256);
  v1::UpdateContainerResourcesResponse response;
  grpc::Status status =
      runtime().UpdateContainerResources(NewClientContext().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::string cgroup = ContainerCgroup(*id);
  EXPECT_EQ(ReadCgroupFile("memory", cgroup, "memory.limit_in_bytes"),
            absl::StrCat(128 * kMiB));
  EXPECT_EQ(ReadCgroupFile("cpu", cgroup, "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(ReadCgroupFile("cpu", cgroup, "cpu.shares"), "256");

  absl::StatusOr<v1::ContainerStatusResponse> container = ContainerStatus(*id);
  ASSERT_TRUE(container.ok()) << container.status();
  const v1::LinuxContainerResources& reported = container->status().resources().linux();
  EXPECT_EQ(reported.memory_limit_in_bytes(), 128 * kMiB);
  EXPECT_EQ(reported.cpu_quota(), 50000);

  // A bad request is InvalidArgument and changes nothing.
  request.mutable_linux()->set_memory_limit_in_bytes(4096);
  status = runtime().UpdateContainerResources(NewClientContext().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReadCgroupFile("memory", cgroup, "memory.limit_in_bytes"),
            absl::StrCat(128 * kMiB));
  request.set_container_id("no-such-container");
  request.mutable_linux()->set_memory_limit_in_bytes(128 * kMiB);
  status = runtime().UpdateContainerResources(NewClientContext().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ResourcesCgroupTest, OomKilledIsReported) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("oom");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  v1::LinuxContainerResources resources;
  resources.set_memory_limit_in_bytes(16 * kMiB);
  resources.set_memory_swap_limit_in_bytes(16 * kMiB);
  // tail keeps the last lines, and /dev/zero is one endless line, so its buffer only grows.
  absl::StatusOr<std::string> id = Run(*pod_id, pod, "hog", "tail /dev/zero", resources);
  ASSERT_TRUE(id.ok()) << id.status();

  absl::StatusOr<v1::ContainerStatus> exited =
      WaitForState(*id, v1::CONTAINER_EXITED, milliseconds(20000));
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_EQ(exited->reason(), "OOMKilled");
  EXPECT_EQ(exited->exit_code(), 137);
}

TEST_F(ResourcesCgroupTest, OomScoreAdjInsideContainer) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("oomscore");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();

  v1::LinuxContainerResources raised;
  raised.set_oom_score_adj(500);
  absl::StatusOr<std::string> id = Run(*pod_id, pod, "raised", "sleep 60", raised);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(Exec(*id, "cat /proc/self/oom_score_adj"), "500");

  // Lowering needs CAP_SYS_RESOURCE. Where berthd lacks it, the value is clamped to 0 with a
  // warning instead of failing the container.
  v1::LinuxContainerResources lowered;
  lowered.set_oom_score_adj(-500);
  absl::StatusOr<std::string> low = Run(*pod_id, pod, "lowered", "sleep 60", lowered);
  ASSERT_TRUE(low.ok()) << low.status();
  std::string value = Exec(*low, "cat /proc/self/oom_score_adj");
  EXPECT_TRUE(value == "-500" || value == "0") << value;
  Report("oom_score_adj -500 became", value);
}

TEST_F(ResourcesCgroupTest, RejectsUnsafeResources) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("unsafe");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();

  v1::ContainerConfig escape = ContainerConfig("escape", {"true"});
  (*escape.mutable_linux()->mutable_resources()->mutable_unified())["../../cgroup.procs"] = "1";
  absl::StatusOr<std::string> id = CreateContainer(*pod_id, escape, pod);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << id.status();

  v1::ContainerConfig page = ContainerConfig("page", {"true"});
  auto* hugepage = page.mutable_linux()->mutable_resources()->add_hugepage_limits();
  hugepage->set_page_size("2MB/../../x");
  hugepage->set_limit(1);
  id = CreateContainer(*pod_id, page, pod);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << id.status();
}

TEST_F(ResourcesCgroupTest, SystemdSliceParentNamesScopes) {
  ASSERT_TRUE(Pull().ok());
  // A slice of its own per test run: "berthe2e<hex>.slice" sits at the top of each hierarchy.
  std::string slice = absl::StrCat("berthe2e", cgroup_parent().substr(11), ".slice");
  std::string slice_dir = "/" + slice;
  v1::PodSandboxConfig pod = PodConfig("slice");
  pod.mutable_linux()->set_cgroup_parent(slice);
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  v1::LinuxContainerResources resources;
  resources.set_cpu_shares(300);
  absl::StatusOr<std::string> id = Run(*pod_id, pod, "scoped", "sleep 60", resources);
  ASSERT_TRUE(id.ok()) << id.status();

  std::string scope = absl::StrCat(slice_dir, "/berth-", *id, ".scope");
  EXPECT_EQ(ReadCgroupFile("cpu", scope, "cpu.shares"), "300");
  std::string pause_scope = absl::StrCat(slice_dir, "/berth-", *pod_id, ".scope");
  EXPECT_TRUE(PathExists(JoinPath("/sys/fs/cgroup/pids", pause_scope.substr(1))));

  RemoveEverything();
  // Berth made the slice, so it removes it with the pod.
  std::vector<std::string> left = CgroupDirsOf(slice_dir);
  EXPECT_TRUE(left.empty()) << left.front();
  for (const std::string& dir : left) {
    for (const std::string& child : ListDir(dir)) (void)::rmdir(JoinPath(dir, child).c_str());
    (void)::rmdir(dir.c_str());
  }
}

TEST_F(ResourcesCgroupTest, RuntimeConfigReportsCgroupfs) {
  v1::RuntimeConfigResponse response;
  grpc::Status status = runtime().RuntimeConfig(NewClientContext().get(), {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.linux().cgroup_driver(), v1::CGROUPFS);
}

// A berthd configured with the systemd driver reports it, and a pod without a cgroup parent
// gets its own slice below berth.slice, with the pause in a scope. (The host runs no systemd:
// the directories are made through cgroupfs at the paths systemd would use.)
TEST(ResourcesSystemdDriver, DaemonReportsDriverAndMakesSlices) {
  TestDaemonOptions options;
  options.config_toml = "[runtime]\ncgroup_driver = \"systemd\"\n";
  absl::StatusOr<std::unique_ptr<TestDaemon>> daemon = TestDaemon::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  v1::RuntimeConfigResponse config;
  grpc::Status status = (*daemon)->runtime().RuntimeConfig(NewClientContext().get(), {}, &config);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(config.linux().cgroup_driver(), v1::SYSTEMD);

  v1::RunPodSandboxRequest run;
  v1::PodSandboxMetadata* metadata = run.mutable_config()->mutable_metadata();
  metadata->set_name("systemd");
  metadata->set_namespace_("e2e");
  metadata->set_uid("systemd-uid");
  run.mutable_config()->mutable_linux()->mutable_security_context()->mutable_namespace_options()
      ->set_network(v1::NODE);
  v1::RunPodSandboxResponse ran;
  status = (*daemon)->runtime().RunPodSandbox(NewClientContext(std::chrono::seconds(30)).get(),
                                              run, &ran);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::string slice = absl::StrCat("/sys/fs/cgroup/pids/berth.slice/berth-", ran.pod_sandbox_id(),
                                   ".slice");
  EXPECT_TRUE(PathExists(JoinPath(slice, absl::StrCat("berth-", ran.pod_sandbox_id(), ".scope"))))
      << slice;

  v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(ran.pod_sandbox_id());
  v1::RemovePodSandboxResponse removed;
  status = (*daemon)->runtime().RemovePodSandbox(NewClientContext(std::chrono::seconds(30)).get(),
                                                 remove, &removed);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(CgroupDirsOf(absl::StrCat("/berth.slice/berth-", ran.pod_sandbox_id(), ".slice"))
                  .empty());
  // The shared parent goes too when no other pod uses it (rmdir fails while it has children).
  for (const std::string& dir : CgroupDirsOf("/berth.slice")) (void)::rmdir(dir.c_str());

  TestDaemonOptions bad;
  bad.config_toml = "[runtime]\ncgroup_driver = \"openrc\"\n";
  EXPECT_FALSE(TestDaemon::Start(bad).ok());
}

}  // namespace
}  // namespace berth::e2e
