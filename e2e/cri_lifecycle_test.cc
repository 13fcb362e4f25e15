// The whole CRI flow over berthd's socket: pull, list, run a pod, create and start containers,
// read the CRI log, exec, check namespaces, stop, remove, and make sure nothing is left.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "e2e/support/cri_fixture.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// "<RFC3339Nano> stdout F hello\n" and nothing else.
const std::regex kHelloLogLine(
    R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}) stdout F hello\n$)");

class CriLifecycleTest : public CriTest {
 protected:
  // Checks that ListImages returns one image, with the pulled tag and the registry's manifest
  // digest.
  void ExpectListedImage(const std::string& image_ref) {
    v1::ListImagesResponse listed;
    grpc::Status status = images().ListImages(NewClientContext().get(), {}, &listed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(listed.images_size(), 1);
    const v1::Image& listed_image = listed.images(0);
    EXPECT_EQ(listed_image.id(), image_ref);
    ExpectContains(listed_image.repo_tags(), image());
    std::string repo = image().substr(0, image().rfind(':'));
    ExpectContains(listed_image.repo_digests(), repo + "@" + manifest_digest());
    EXPECT_GT(listed_image.size(), 0u);
  }

  static void ExpectContains(const google::protobuf::RepeatedPtrField<std::string>& list,
                             const std::string& wanted) {
    std::vector<std::string> items(list.begin(), list.end());
    EXPECT_NE(std::find(items.begin(), items.end(), wanted), items.end())
        << "\"" << wanted << "\" not among [" << absl::StrJoin(items, ", ") << "]";
  }

  // Checks that the container shares the pause's net, ipc and uts namespaces and has its own
  // mount namespace.
  void ExpectSharedNamespaces(pid_t container_pid, pid_t pause_pid) {
    for (const char* name : {"net", "ipc", "uts"}) {
      absl::StatusOr<std::string> container_ns = NamespaceOf(container_pid, name);
      absl::StatusOr<std::string> pause_ns = NamespaceOf(pause_pid, name);
      ASSERT_TRUE(container_ns.ok()) << container_ns.status();
      ASSERT_TRUE(pause_ns.ok()) << pause_ns.status();
      EXPECT_EQ(*container_ns, *pause_ns) << name;
      absl::StatusOr<std::string> host_ns = NamespaceOf(::getpid(), name);
      ASSERT_TRUE(host_ns.ok()) << host_ns.status();
      EXPECT_NE(*pause_ns, *host_ns) << name << " namespace of the pause is the host's";
    }
    absl::StatusOr<std::string> container_mnt = NamespaceOf(container_pid, "mnt");
    absl::StatusOr<std::string> pause_mnt = NamespaceOf(pause_pid, "mnt");
    absl::StatusOr<std::string> host_mnt = NamespaceOf(::getpid(), "mnt");
    ASSERT_TRUE(container_mnt.ok()) << container_mnt.status();
    ASSERT_TRUE(pause_mnt.ok()) << pause_mnt.status();
    ASSERT_TRUE(host_mnt.ok()) << host_mnt.status();
    EXPECT_NE(*container_mnt, *pause_mnt);
    EXPECT_NE(*container_mnt, *host_mnt);
  }

  grpc::Status StopContainer(const std::string& id, int64_t timeout) {
    v1::StopContainerRequest request;
    request.set_container_id(id);
    request.set_timeout(timeout);
    v1::StopContainerResponse response;
    return runtime().StopContainer(NewClientContext(std::chrono::seconds(30)).get(), request,
                                   &response);
  }

  grpc::Status RemoveContainer(const std::string& id) {
    v1::RemoveContainerRequest request;
    request.set_container_id(id);
    v1::RemoveContainerResponse response;
    return runtime().RemoveContainer(NewClientContext(std::chrono::seconds(30)).get(), request,
                                     &response);
  }
};

TEST_F(CriLifecycleTest, PodRunsAndLeavesNothing) {
  // Pull and list.
  steady_clock::time_point pull_start = steady_clock::now();
  absl::StatusOr<std::string> image_ref = Pull();
  ASSERT_TRUE(image_ref.ok()) << image_ref.status();
  Report("pull_ms", std::to_string(MillisSince(pull_start)));
  ASSERT_NO_FATAL_FAILURE(ExpectListedImage(*image_ref));

  // A pod with its own hostname.
  v1::PodSandboxConfig pod = PodConfig("lifecycle", "lifecycle-host");
  steady_clock::time_point runp_start = steady_clock::now();
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  Report("run_pod_sandbox_ms", std::to_string(MillisSince(runp_start)));
  absl::StatusOr<v1::PodSandboxStatusResponse> pod_status = PodStatus(*pod_id);
  ASSERT_TRUE(pod_status.ok()) << pod_status.status();
  EXPECT_EQ(pod_status->status().state(), v1::SANDBOX_READY);
  absl::StatusOr<pid_t> pause_pid = PausePid(*pod_id);
  ASSERT_TRUE(pause_pid.ok()) << pause_pid.status();

  // A container that prints one line and waits.
  steady_clock::time_point start_start = steady_clock::now();
  absl::StatusOr<std::string> hello = StartNewContainer(
      *pod_id, ContainerConfig("hello", {"sh", "-c", "echo hello; sleep 60"}), pod);
  ASSERT_TRUE(hello.ok()) << hello.status();
  Report("create_and_start_ms", std::to_string(MillisSince(start_start)));
  absl::StatusOr<v1::ContainerStatus> running =
      WaitForState(*hello, v1::CONTAINER_RUNNING, milliseconds(5000));
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(running->log_path(), JoinPath(log_dir(), "hello.log"));
  EXPECT_GT(running->started_at(), 0);
  absl::StatusOr<pid_t> container_pid = ContainerPid(*hello);
  ASSERT_TRUE(container_pid.ok()) << container_pid.status();
  ASSERT_GT(*container_pid, 0);
  Track(*container_pid);

  // The CRI log contains exactly one full line. A short wait after the first line would reveal
  // a second one written late.
  absl::StatusOr<std::string> log =
      WaitForFile(JoinPath(log_dir(), "hello.log"), 1, milliseconds(5000));
  ASSERT_TRUE(log.ok()) << log.status();
  std::this_thread::sleep_for(milliseconds(300));
  log = ReadFile(JoinPath(log_dir(), "hello.log"));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_TRUE(std::regex_match(*log, kHelloLogLine)) << "log bytes: \"" << *log << "\"";

  // The pod's hostname, seen from inside.
  absl::StatusOr<v1::ExecSyncResponse> hostname = ExecSync(*hello, {"hostname"});
  ASSERT_TRUE(hostname.ok()) << hostname.status();
  EXPECT_EQ(hostname->stdout(), "lifecycle-host\n");
  EXPECT_EQ(hostname->stderr(), "");
  EXPECT_EQ(hostname->exit_code(), 0);

  ASSERT_NO_FATAL_FAILURE(ExpectSharedNamespaces(*container_pid, *pause_pid));

  // While the pod runs, the leftover check finds each kind of thing it looks for at the end, so
  // an empty result there is meaningful.
  std::vector<std::string> live = Leftovers();
  for (const char* kind : {"mount ", "netns pin ", "cgroup ", "shim pid ", "process "}) {
    EXPECT_TRUE(std::any_of(live.begin(), live.end(),
                            [kind](const std::string& item) { return item.rfind(kind, 0) == 0; }))
        << "no \"" << kind << "\" among:\n"
        << absl::StrJoin(live, "\n");
  }

  // Stop with a timeout: the container dies of SIGTERM or, after 2 s, of SIGKILL.
  steady_clock::time_point stop_start = steady_clock::now();
  grpc::Status stopped = StopContainer(*hello, 2);
  ASSERT_TRUE(stopped.ok()) << stopped.error_message();
  Report("stop_container_ms", std::to_string(MillisSince(stop_start)));
  absl::StatusOr<v1::ContainerStatusResponse> exited = ContainerStatus(*hello);
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_EQ(exited->status().state(), v1::CONTAINER_EXITED);
  EXPECT_TRUE(exited->status().exit_code() == 137 || exited->status().exit_code() == 143)
      << exited->status().exit_code();
  Report("stopped_exit_code", std::to_string(exited->status().exit_code()));
  EXPECT_EQ(exited->status().reason(), "Error");
  EXPECT_GT(exited->status().finished_at(), 0);
  EXPECT_GE(exited->status().finished_at(), exited->status().started_at());

  // A container that ends by itself with status 0.
  absl::StatusOr<std::string> done =
      StartNewContainer(*pod_id, ContainerConfig("done", {"sh", "-c", "exit 0"}), pod);
  ASSERT_TRUE(done.ok()) << done.status();
  absl::StatusOr<v1::ContainerStatus> completed =
      WaitForState(*done, v1::CONTAINER_EXITED, milliseconds(5000));
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->exit_code(), 0);
  EXPECT_EQ(completed->reason(), "Completed");
  EXPECT_GT(completed->finished_at(), 0);

  // Remove the containers, then the pod.
  for (const std::string& id : {*hello, *done}) {
    grpc::Status removed = RemoveContainer(id);
    EXPECT_TRUE(removed.ok()) << id << ": " << removed.error_message();
  }
  v1::ListContainersResponse containers;
  ASSERT_TRUE(runtime().ListContainers(NewClientContext().get(), {}, &containers).ok());
  EXPECT_EQ(containers.containers_size(), 0);

  v1::StopPodSandboxRequest stop_pod;
  stop_pod.set_pod_sandbox_id(*pod_id);
  v1::StopPodSandboxResponse stop_pod_response;
  grpc::Status pod_stopped = runtime().StopPodSandbox(
      NewClientContext(std::chrono::seconds(30)).get(), stop_pod, &stop_pod_response);
  ASSERT_TRUE(pod_stopped.ok()) << pod_stopped.error_message();
  pod_status = PodStatus(*pod_id);
  ASSERT_TRUE(pod_status.ok()) << pod_status.status();
  EXPECT_EQ(pod_status->status().state(), v1::SANDBOX_NOTREADY);

  v1::RemovePodSandboxRequest remove_pod;
  remove_pod.set_pod_sandbox_id(*pod_id);
  v1::RemovePodSandboxResponse remove_pod_response;
  grpc::Status pod_removed = runtime().RemovePodSandbox(
      NewClientContext(std::chrono::seconds(30)).get(), remove_pod, &remove_pod_response);
  ASSERT_TRUE(pod_removed.ok()) << pod_removed.error_message();
  EXPECT_EQ(PodStatus(*pod_id).status().code(), absl::StatusCode::kNotFound);

  // Nothing of the pod is left: mounts, netns pin, cgroups, shims, processes.
  std::vector<std::string> leftovers = Leftovers();
  EXPECT_TRUE(leftovers.empty()) << absl::StrJoin(leftovers, "\n");
  EXPECT_TRUE(ListDir(JoinPath(daemon().root(), "containers")).empty());
  EXPECT_TRUE(ListDir(JoinPath(daemon().root(), "sandboxes")).empty());

  // Remove the image.
  v1::RemoveImageRequest remove_image;
  remove_image.mutable_image()->set_image(image());
  v1::RemoveImageResponse remove_image_response;
  grpc::Status image_removed =
      images().RemoveImage(NewClientContext().get(), remove_image, &remove_image_response);
  ASSERT_TRUE(image_removed.ok()) << image_removed.error_message();
  v1::ListImagesResponse listed;
  ASSERT_TRUE(images().ListImages(NewClientContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.images_size(), 0);
}

// The kubelet rotates a log by renaming the file and requesting a reopen. Output after that
// lands in a new file at the original path.
TEST_F(CriLifecycleTest, LogReopensAfterRotation) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("rotate");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> id = StartNewContainer(
      *pod_id, ContainerConfig("ticker", {"sh", "-c", "while true; do echo tick; sleep 0.1; done"}),
      pod);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(WaitForState(*id, v1::CONTAINER_RUNNING, std::chrono::milliseconds(5000)).ok());

  std::string log = log_dir() + "/ticker.log";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(std::rename(log.c_str(), (log + ".1").c_str()), 0) << log;
  v1::ReopenContainerLogRequest reopen;
  reopen.set_container_id(*id);
  v1::ReopenContainerLogResponse reopen_response;
  grpc::Status reopened =
      runtime().ReopenContainerLog(NewClientContext().get(), reopen, &reopen_response);
  ASSERT_TRUE(reopened.ok()) << reopened.error_message();

  std::string text;
  for (int attempt = 0; attempt < 50 && text.find(" stdout F tick\n") == std::string::npos;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    absl::StatusOr<std::string> read = ReadFile(log);
    if (read.ok()) text = *read;
  }
  EXPECT_NE(text.find(" stdout F tick\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace berth::e2e
