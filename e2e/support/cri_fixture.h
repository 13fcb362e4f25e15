// A GoogleTest fixture for end-to-end tests of the CRI flow: each test gets its own registry
// holding the busybox test image, its own berthd, a cgroup parent no other test uses and a
// folder for container logs. TearDown removes every pod the daemon still lists, then checks
// that nothing of the test is left on the host (mounts, pinned network namespaces, cgroups,
// shims, recorded processes) and cleans up whatever was.
//
//   TEST_F(CriTest, Example) {
//     ASSERT_TRUE(Pull().ok());
//     v1::PodSandboxConfig pod = PodConfig("web");
//     absl::StatusOr<std::string> pod_id = RunPod(pod);
//     ...
//   }
//
// Helpers return absl::Status / absl::StatusOr; a gRPC error becomes an absl::Status with the
// same code and message, so tests can compare codes with either enum.
#pragma once

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "e2e/support/daemon.h"
#include "e2e/support/registry.h"
#include "runtime/v1/api.pb.h"

namespace berth::e2e {

namespace v1 = ::runtime::v1;

// Converts a gRPC status to an absl::Status of the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

// One process identified by its pid and its start time, so that a recycled pid is not taken for
// the process it was given to before.
struct TrackedProcess {
  pid_t pid = -1;
  unsigned long long start_time = 0;  // field 22 of /proc/<pid>/stat
};

// Reads the start time of `pid`. NotFound once the process is gone.
absl::StatusOr<TrackedProcess> TrackProcess(pid_t pid);

// True while the process runs (a zombie counts as gone).
bool IsAlive(const TrackedProcess& process);

// Returns the target of /proc/<pid>/ns/<name>, e.g. "net:[4026532281]".
absl::StatusOr<std::string> NamespaceOf(pid_t pid, const std::string& name);

// Returns the command line of `pid`, its arguments joined with spaces, or "" once it is gone.
std::string CommandLineOf(pid_t pid);

// Returns the pids of the processes whose command line contains `needle`.
std::vector<pid_t> ProcessesMentioning(const std::string& needle);

// Returns the mount points in /proc/self/mountinfo at or below `dir`.
std::vector<std::string> MountsBelow(const std::string& dir);

// Returns the folders of `cgroup` (an absolute cgroup path) in each hierarchy of /sys/fs/cgroup.
std::vector<std::string> CgroupDirsOf(const std::string& cgroup);

// Returns the sorted entries of folder `dir` without . and .., or none if it does not exist.
std::vector<std::string> ListDir(const std::string& dir);

// Returns the milliseconds elapsed since `start`.
int64_t MillisSince(std::chrono::steady_clock::time_point start);

// Prints "[ REPORT   ] key: value" to stderr and records it as a test property, for facts a
// reader of the run wants (timings, the code a server chose) that the test does not decide.
void Report(const std::string& key, const std::string& value);

class CriTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The options SetUp starts berthd with; a derived fixture overrides it to configure the daemon.
  virtual TestDaemonOptions DaemonOptions() { return {}; }

  // The reference of the busybox image pushed in SetUp ("<host>/e2e/busybox:latest") and the
  // digest the registry gives for its manifest (Docker-Content-Digest of a HEAD request).
  const std::string& image() const { return image_; }
  const std::string& manifest_digest() const { return manifest_digest_; }

  TestRegistry& registry() { return *registry_; }
  TestDaemon& daemon() { return *daemon_; }
  v1::RuntimeService::Stub& runtime() { return daemon_->runtime(); }
  v1::ImageService::Stub& images() { return daemon_->images(); }

  // The test's own cgroup parent ("/berth-e2e-<random>") and log folder.
  const std::string& cgroup_parent() const { return cgroup_parent_; }
  const std::string& log_dir() const { return log_dir_; }

  // Pulls `reference` (image() when empty) and returns the image ref of the response.
  absl::StatusOr<std::string> Pull(const std::string& reference = "");

  // Returns a pod config named `name` with uid "<name>-uid", namespace "e2e", the test's cgroup
  // parent and log folder, and `hostname` when not empty.
  v1::PodSandboxConfig PodConfig(const std::string& name, const std::string& hostname = "");

  // Runs a pod and records its pause process for the end-of-test checks.
  absl::StatusOr<std::string> RunPod(const v1::PodSandboxConfig& config);

  // Returns a container config named `name` running `command` in image(), logging to
  // "<name>.log".
  v1::ContainerConfig ContainerConfig(const std::string& name,
                                      const std::vector<std::string>& command);

  // Creates a container in `pod_id`.
  absl::StatusOr<std::string> CreateContainer(const std::string& pod_id,
                                              const v1::ContainerConfig& config,
                                              const v1::PodSandboxConfig& pod_config);

  // Creates and starts a container and records its process for the end-of-test checks.
  absl::StatusOr<std::string> StartNewContainer(const std::string& pod_id,
                                                const v1::ContainerConfig& config,
                                                const v1::PodSandboxConfig& pod_config);

  // Calls ContainerStatus or PodSandboxStatus with verbose set.
  absl::StatusOr<v1::ContainerStatusResponse> ContainerStatus(const std::string& id);
  absl::StatusOr<v1::PodSandboxStatusResponse> PodStatus(const std::string& id);

  // Returns the "pid" of the verbose info of ContainerStatus or PodSandboxStatus.
  absl::StatusOr<pid_t> ContainerPid(const std::string& id);
  absl::StatusOr<pid_t> PausePid(const std::string& pod_id);

  // Polls ContainerStatus (every 50 ms, at most `timeout`) until the state is `state`.
  absl::StatusOr<v1::ContainerStatus> WaitForState(const std::string& id, v1::ContainerState state,
                                                   std::chrono::milliseconds timeout);

  // Polls the file (every 50 ms, at most `timeout`) until it contains `min_bytes` bytes.
  absl::StatusOr<std::string> WaitForFile(const std::string& path, size_t min_bytes,
                                          std::chrono::milliseconds timeout);

  // Calls ExecSync with `timeout_seconds` (0: none) and a client deadline of `deadline`.
  absl::StatusOr<v1::ExecSyncResponse> ExecSync(
      const std::string& id, const std::vector<std::string>& cmd, int64_t timeout_seconds = 0,
      std::chrono::seconds deadline = std::chrono::seconds(20));

  // Adds a process to those that must be gone at the end of the test.
  void Track(pid_t pid);

  // Lists everything of this test still on the host, one line each: mounts below the daemon's
  // and the test's folders, pinned network namespaces, cgroups below cgroup_parent(), shim
  // processes of this daemon and tracked processes still alive. Empty when clean.
  std::vector<std::string> Leftovers();

  // Removes every container and pod the daemon lists (errors are test failures).
  void RemoveEverything();

 private:
  // Last resort after a failed test: kills what this test started that still runs, removes
  // its cgroups. Only pids this test recorded, found in its cgroups, or whose command line
  // names its daemon's state folder are signalled.
  void ForceCleanup();

  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TestDaemon> daemon_;
  std::string image_;
  std::string manifest_digest_;
  std::string cgroup_parent_;
  std::string temp_dir_;
  std::string log_dir_;
  std::vector<TrackedProcess> tracked_;
};

}  // namespace berth::e2e
