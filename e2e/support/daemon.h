// A real berthd for end-to-end tests: the binary from $BERTH_BIN_DIR, started with its own
// temporary root, state, socket and configuration file, so a test never touches the host's
// /var/lib/berth, /run/berth or /etc/berth.
//
//   BERTH_ASSIGN_OR_RETURN(auto daemon, TestDaemon::Start());
//   auto context = NewClientContext();
//   runtime::v1::VersionResponse version;
//   grpc::Status status = daemon->runtime().Version(context.get(), {}, &version);
//
// The destructor stops the daemon (only the process it started) and deletes its folders.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::e2e {

struct TestDaemonOptions {
  // Contents of the configuration file passed with --config. Empty means all defaults.
  std::string config_toml;
  // Socket to listen on. Empty means berth.sock in the daemon's private state folder.
  std::string socket_path;
  // Further command-line arguments, after --config, --root, --state, --listen and --log-level.
  // Unless these or config_toml set the CNI configuration folder, berthd gets an empty one of its
  // own (--cni-conf-dir), so a test never uses the host's /etc/cni/net.d.
  std::vector<std::string> extra_args;
  // Log level of the daemon; its log goes to log_path().
  std::string log_level = "debug";
  // Time allowed for the daemon's first successful Version call after it starts.
  std::chrono::seconds ready_timeout{10};
};

class TestDaemon {
 public:
  // Starts berthd and waits until Version succeeds. On failure the error carries the tail of
  // the daemon's log, and nothing is left running.
  static absl::StatusOr<std::unique_ptr<TestDaemon>> Start(TestDaemonOptions options = {});

  // Stops the daemon if it still runs, then removes the temporary folder. If mounts remain
  // below it, they are detached first; a folder that still has mounts is left in place.
  ~TestDaemon();
  TestDaemon(const TestDaemon&) = delete;
  TestDaemon& operator=(const TestDaemon&) = delete;

  // Stubs connected to the daemon's socket; Restart() replaces them.
  runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  runtime::v1::ImageService::Stub& images() { return *images_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // Paths the daemon was given.
  const std::string& root() const { return root_; }
  const std::string& state() const { return state_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& log_path() const { return log_path_; }

  // Process id of the daemon, or -1 once it was reaped.
  pid_t pid() const { return pid_; }

  // Sends `signal` (SIGTERM by default) and waits up to `timeout` for the daemon to
  // exit, then sends SIGKILL and reaps it. Returns the wait status (see WIFEXITED). Calling it
  // again returns the same status.
  absl::StatusOr<int> Stop(std::chrono::seconds timeout = std::chrono::seconds(10),
                           int signal = SIGTERM);

  // Starts berthd again after Stop(), on the same root, state, socket and configuration, as a
  // host restarting the daemon would, and waits until Version succeeds. The new run's output is
  // appended to the same log. FailedPrecondition while the daemon still runs.
  absl::Status Restart();

  // The daemon's log so far.
  std::string ReadLog() const;

 private:
  TestDaemon() = default;
  absl::Status Prepare(const TestDaemonOptions& options);
  absl::Status Launch(const TestDaemonOptions& options);
  absl::Status WaitReady(std::chrono::seconds timeout);
  std::string LogTail() const;
  void RemoveTempDir();

  TestDaemonOptions options_;
  std::string temp_dir_;
  std::string root_;
  std::string state_;
  std::string socket_path_;
  std::string config_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  int wait_status_ = 0;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<runtime::v1::ImageService::Stub> images_;
};

// How a berthd run by RunBerthdToExit ended.
struct BerthdExit {
  int wait_status = 0;  // as from waitpid; see WIFEXITED and WEXITSTATUS
  std::string output;   // stdout and stderr together
};

// Runs berthd with `args` (after the program name) until it exits, for checks of startup
// failures. After `timeout` it is killed with SIGKILL and the result is DeadlineExceeded.
absl::StatusOr<BerthdExit> RunBerthdToExit(const std::vector<std::string>& args,
                                           std::chrono::seconds timeout = std::chrono::seconds(10));

// Returns a client context whose deadline is `timeout` from now.
std::unique_ptr<grpc::ClientContext> NewClientContext(
    std::chrono::seconds timeout = std::chrono::seconds(10));

// The folder holding the built binaries: $BERTH_BIN_DIR, else the folder of the running test
// (CMake writes every binary to the same folder).
std::string BinaryDir();

}  // namespace berth::e2e
