// ExecSync end to end: stdout, stderr and the exit code are returned separately, and a command that
// outlives its timeout is killed in time and leaves no process behind in the container.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "e2e/support/cri_fixture.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// How long a killed exec may take to disappear from the container's process list.
constexpr milliseconds kGoneWithin(3000);

class CriExecTest : public CriTest {
 protected:
  // Starts a pod with one long-running container and sets container_ and container_mnt_.
  void StartSleeper() {
    absl::StatusOr<std::string> image_ref = Pull();
    ASSERT_TRUE(image_ref.ok()) << image_ref.status();
    pod_ = PodConfig("exec");
    absl::StatusOr<std::string> pod_id = RunPod(pod_);
    ASSERT_TRUE(pod_id.ok()) << pod_id.status();
    // The main process is "sleep 3600", so that a "sleep 60" in the process list can only be
    // the exec.
    absl::StatusOr<std::string> id =
        StartNewContainer(*pod_id, ContainerConfig("sleeper", {"sleep", "3600"}), pod_);
    ASSERT_TRUE(id.ok()) << id.status();
    container_ = *id;
    absl::StatusOr<v1::ContainerStatus> running =
        WaitForState(container_, v1::CONTAINER_RUNNING, milliseconds(5000));
    ASSERT_TRUE(running.ok()) << running.status();
    absl::StatusOr<pid_t> pid = ContainerPid(container_);
    ASSERT_TRUE(pid.ok()) << pid.status();
    Track(*pid);
    absl::StatusOr<std::string> mnt = NamespaceOf(*pid, "mnt");
    ASSERT_TRUE(mnt.ok()) << mnt.status();
    container_mnt_ = *mnt;
  }

  // Returns the host pids of "sleep 60" processes in the container's mount namespace.
  std::vector<pid_t> ExecSleepsOnHost() {
    std::vector<pid_t> found;
    for (pid_t pid : ProcessesMentioning("sleep")) {
      if (CommandLineOf(pid) != "sleep 60") continue;
      absl::StatusOr<std::string> mnt = NamespaceOf(pid, "mnt");
      if (mnt.ok() && *mnt == container_mnt_) found.push_back(pid);
    }
    return found;
  }

  // Returns the lines of `ps`, run in the container, that show "sleep 60".
  absl::StatusOr<std::vector<std::string>> ExecSleepsInContainer() {
    absl::StatusOr<v1::ExecSyncResponse> ps = ExecSync(container_, {"ps", "-o", "pid,args"}, 5);
    if (!ps.ok()) return ps.status();
    if (ps->exit_code() != 0) {
      return absl::InternalError(absl::StrCat("ps exited ", ps->exit_code(), ": ", ps->stderr()));
    }
    std::vector<std::string> found;
    for (absl::string_view line : absl::StrSplit(ps->stdout(), '\n')) {
      if (absl::EndsWith(line, "sleep 60")) found.emplace_back(line);
    }
    if (ps->stdout().find("sleep 3600") == std::string::npos) {
      return absl::InternalError(absl::StrCat("ps does not show the main process: ", ps->stdout()));
    }
    return found;
  }

  v1::PodSandboxConfig pod_;
  std::string container_;
  std::string container_mnt_;
};

TEST_F(CriExecTest, ReturnsStreamsAndExitCode) {
  ASSERT_NO_FATAL_FAILURE(StartSleeper());

  steady_clock::time_point start = steady_clock::now();
  absl::StatusOr<v1::ExecSyncResponse> result =
      ExecSync(container_, {"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(result.ok()) << result.status();
  Report("exec_sync_ms", std::to_string(MillisSince(start)));
  EXPECT_EQ(result->stdout(), "out\n");
  EXPECT_EQ(result->stderr(), "err\n");
  EXPECT_EQ(result->exit_code(), 3);
}

TEST_F(CriExecTest, TimeoutKillsCommand) {
  ASSERT_NO_FATAL_FAILURE(StartSleeper());

  steady_clock::time_point start = steady_clock::now();
  std::future<absl::StatusOr<v1::ExecSyncResponse>> pending = std::async(std::launch::async, [&] {
    return ExecSync(container_, {"sleep", "60"}, /*timeout_seconds=*/1, std::chrono::seconds(20));
  });

  // While the exec runs, its process is found in the container's mount namespace. This shows
  // that the check for its absence below can find it.
  std::vector<pid_t> seen;
  while (seen.empty() && MillisSince(start) < 900) {
    std::this_thread::sleep_for(milliseconds(20));
    seen = ExecSleepsOnHost();
  }
  EXPECT_FALSE(seen.empty()) << "\"sleep 60\" never showed up in the container";

  absl::StatusOr<v1::ExecSyncResponse> result = pending.get();
  int64_t elapsed = MillisSince(start);
  Report("exec_timeout_elapsed_ms", std::to_string(elapsed));
  EXPECT_GE(elapsed, 1000);
  EXPECT_LE(elapsed, 3000);
  if (result.ok()) {
    Report("exec_timeout_outcome", absl::StrCat("result: exit code ", result->exit_code(),
                                                ", stderr \"", result->stderr(), "\""));
    EXPECT_NE(result->exit_code(), 0);
  } else {
    Report("exec_timeout_outcome", result.status().ToString());
    // The server's own error, not the client's 20 s deadline.
    EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  }

  // The timed-out command is gone, seen both from the host and from inside the container.
  steady_clock::time_point deadline = steady_clock::now() + kGoneWithin;
  std::vector<pid_t> on_host = ExecSleepsOnHost();
  while (!on_host.empty() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
    on_host = ExecSleepsOnHost();
  }
  EXPECT_TRUE(on_host.empty()) << "\"sleep 60\" still runs as host pid " << on_host.front();
  absl::StatusOr<std::vector<std::string>> inside = ExecSleepsInContainer();
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_TRUE(inside->empty()) << "ps in the container: " << inside->front();
}

}  // namespace
}  // namespace berth::e2e
