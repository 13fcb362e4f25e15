// A berthd killed with SIGKILL and started again finds its pods and containers running, with the
// same processes, and can still stop and remove them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "base/status.h"
#include "e2e/support/cri_fixture.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A running `sleep` container in a pod of its own, with the ids and processes the tests check.
struct RunningSleeper {
  v1::PodSandboxConfig pod;
  std::string pod_id;
  std::string id;
  pid_t pid = -1;
  TrackedProcess process;
};

class CriRestartTest : public CriTest {
 protected:
  // Pulls the image, runs pod `pod_name` and starts a `sleep 3600` container in it.
  absl::StatusOr<RunningSleeper> StartSleeper(const std::string& pod_name) {
    RunningSleeper sleeper;
    BERTH_RETURN_IF_ERROR(Pull().status());
    sleeper.pod = PodConfig(pod_name);
    BERTH_ASSIGN_OR_RETURN(sleeper.pod_id, RunPod(sleeper.pod));
    BERTH_ASSIGN_OR_RETURN(
        sleeper.id,
        StartNewContainer(sleeper.pod_id, ContainerConfig("sleeper", {"sleep", "3600"}),
                          sleeper.pod));
    BERTH_RETURN_IF_ERROR(
        WaitForState(sleeper.id, v1::CONTAINER_RUNNING, milliseconds(5000)).status());
    BERTH_ASSIGN_OR_RETURN(sleeper.pid, ContainerPid(sleeper.id));
    Track(sleeper.pid);
    BERTH_ASSIGN_OR_RETURN(sleeper.process, TrackProcess(sleeper.pid));
    return sleeper;
  }
};

TEST_F(CriRestartTest, ContainerSurvivesKilledDaemon) {
  absl::StatusOr<RunningSleeper> sleeper = StartSleeper("restart");
  ASSERT_TRUE(sleeper.ok()) << sleeper.status();
  absl::StatusOr<pid_t> pause_pid = PausePid(sleeper->pod_id);
  ASSERT_TRUE(pause_pid.ok()) << pause_pid.status();

  // Kill the daemon outright. The shims keep the pod running.
  absl::StatusOr<int> killed = daemon().Stop(std::chrono::seconds(1), SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_TRUE(WIFSIGNALED(*killed)) << *killed;
  EXPECT_EQ(WTERMSIG(*killed), SIGKILL);
  EXPECT_TRUE(IsAlive(sleeper->process));

  steady_clock::time_point restart_start = steady_clock::now();
  absl::Status restarted = daemon().Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  Report("restart_until_ready_ms", std::to_string(MillisSince(restart_start)));

  // The new daemon lists the pod and the container, with the same processes.
  v1::ListContainersResponse containers;
  grpc::Status listed = runtime().ListContainers(NewClientContext().get(), {}, &containers);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(containers.containers_size(), 1);
  EXPECT_EQ(containers.containers(0).id(), sleeper->id);
  EXPECT_EQ(containers.containers(0).state(), v1::CONTAINER_RUNNING);

  v1::ListPodSandboxResponse pods;
  listed = runtime().ListPodSandbox(NewClientContext().get(), {}, &pods);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(pods.items_size(), 1);
  EXPECT_EQ(pods.items(0).id(), sleeper->pod_id);
  EXPECT_EQ(pods.items(0).state(), v1::SANDBOX_READY);

  absl::StatusOr<pid_t> pid_after = ContainerPid(sleeper->id);
  ASSERT_TRUE(pid_after.ok()) << pid_after.status();
  EXPECT_EQ(*pid_after, sleeper->pid);
  EXPECT_TRUE(IsAlive(sleeper->process));
  absl::StatusOr<pid_t> pause_after = PausePid(sleeper->pod_id);
  ASSERT_TRUE(pause_after.ok()) << pause_after.status();
  EXPECT_EQ(*pause_after, *pause_pid);

  absl::StatusOr<v1::ExecSyncResponse> exec = ExecSync(sleeper->id, {"echo", "still here"});
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ(exec->stdout(), "still here\n");

  // Stop and remove through the new daemon.
  v1::StopContainerRequest stop;
  stop.set_container_id(sleeper->id);
  stop.set_timeout(2);
  v1::StopContainerResponse stop_response;
  grpc::Status stopped = runtime().StopContainer(NewClientContext(std::chrono::seconds(30)).get(),
                                                 stop, &stop_response);
  ASSERT_TRUE(stopped.ok()) << stopped.error_message();
  absl::StatusOr<v1::ContainerStatusResponse> status = ContainerStatus(sleeper->id);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->status().state(), v1::CONTAINER_EXITED);
  EXPECT_FALSE(IsAlive(sleeper->process));

  v1::RemoveContainerRequest remove;
  remove.set_container_id(sleeper->id);
  v1::RemoveContainerResponse remove_response;
  grpc::Status removed = runtime().RemoveContainer(NewClientContext(std::chrono::seconds(30)).get(),
                                                   remove, &remove_response);
  ASSERT_TRUE(removed.ok()) << removed.error_message();

  v1::StopPodSandboxRequest stop_pod;
  stop_pod.set_pod_sandbox_id(sleeper->pod_id);
  v1::StopPodSandboxResponse stop_pod_response;
  grpc::Status pod_stopped = runtime().StopPodSandbox(
      NewClientContext(std::chrono::seconds(30)).get(), stop_pod, &stop_pod_response);
  ASSERT_TRUE(pod_stopped.ok()) << pod_stopped.error_message();
  v1::RemovePodSandboxRequest remove_pod;
  remove_pod.set_pod_sandbox_id(sleeper->pod_id);
  v1::RemovePodSandboxResponse remove_pod_response;
  grpc::Status pod_removed = runtime().RemovePodSandbox(
      NewClientContext(std::chrono::seconds(30)).get(), remove_pod, &remove_pod_response);
  ASSERT_TRUE(pod_removed.ok()) << pod_removed.error_message();

  std::vector<std::string> leftovers = Leftovers();
  EXPECT_TRUE(leftovers.empty()) << absl::StrJoin(leftovers, "\n");
}

// A berthd killed before RunPodSandbox wrote its record leaves a sandbox directory with a pause
// process, a netns and cgroups but no record. The next berthd removes all of it at start-up.
TEST_F(CriRestartTest, UnfinishedSandboxIsSweptAtStart) {
  v1::PodSandboxConfig pod = PodConfig("orphan");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<pid_t> pause_pid = PausePid(*pod_id);
  ASSERT_TRUE(pause_pid.ok()) << pause_pid.status();
  Track(*pause_pid);
  absl::StatusOr<TrackedProcess> pause = TrackProcess(*pause_pid);
  ASSERT_TRUE(pause.ok()) << pause.status();

  absl::StatusOr<int> killed = daemon().Stop(std::chrono::seconds(1), SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed.status();
  std::string record = daemon().root() + "/sandboxes/" + *pod_id + "/sandbox.json";
  ASSERT_EQ(::unlink(record.c_str()), 0) << record;

  absl::Status restarted = daemon().Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  v1::ListPodSandboxResponse pods;
  grpc::Status listed = runtime().ListPodSandbox(NewClientContext().get(), {}, &pods);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  EXPECT_EQ(pods.items_size(), 0);
  EXPECT_FALSE(IsAlive(*pause));
  EXPECT_NE(::access((daemon().root() + "/sandboxes/" + *pod_id).c_str(), F_OK), 0);

  for (const std::string& dir : CgroupDirsOf(cgroup_parent() + "/" + *pod_id)) {
    EXPECT_NE(::access(dir.c_str(), F_OK), 0) << dir;
  }
  // Without its record Berth cannot tell that it made the pod's cgroup parent. That one is left
  // to its usual owner, the kubelet, whose part the test plays here.
  for (const std::string& dir : CgroupDirsOf(cgroup_parent())) ::rmdir(dir.c_str());

  // The name is free again: the kubelet's retry of the same pod succeeds.
  absl::StatusOr<std::string> again = RunPod(pod);
  ASSERT_TRUE(again.ok()) << again.status();
}

// A container whose shim was killed can still be stopped and removed, with its pod.
TEST_F(CriRestartTest, ContainerWithLostShimIsRemovable) {
  absl::StatusOr<RunningSleeper> sleeper = StartSleeper("lostshim");
  ASSERT_TRUE(sleeper.ok()) << sleeper.status();

  // The shim is the container process's parent.
  std::string stat_path = "/proc/" + std::to_string(sleeper->pid) + "/stat";
  FILE* stat = std::fopen(stat_path.c_str(), "r");
  ASSERT_NE(stat, nullptr);
  int ignored_pid = 0;
  char comm[256] = {};
  char state = 0;
  int shim_pid = 0;
  ASSERT_EQ(std::fscanf(stat, "%d %255s %c %d", &ignored_pid, comm, &state, &shim_pid), 4);
  std::fclose(stat);
  ASSERT_GT(shim_pid, 1);
  ASSERT_EQ(::kill(shim_pid, SIGKILL), 0);

  v1::StopContainerRequest stop;
  stop.set_container_id(sleeper->id);
  v1::StopContainerResponse stop_response;
  grpc::Status stopped = runtime().StopContainer(NewClientContext(std::chrono::seconds(30)).get(),
                                                 stop, &stop_response);
  EXPECT_TRUE(stopped.ok()) << stopped.error_message();
  v1::RemoveContainerRequest remove;
  remove.set_container_id(sleeper->id);
  v1::RemoveContainerResponse remove_response;
  grpc::Status removed = runtime().RemoveContainer(NewClientContext(std::chrono::seconds(30)).get(),
                                                   remove, &remove_response);
  EXPECT_TRUE(removed.ok()) << removed.error_message();
  EXPECT_FALSE(IsAlive(sleeper->process));
}

}  // namespace
}  // namespace berth::e2e
