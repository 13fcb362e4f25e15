// berthd as a process: it starts with private folders, serves the runtime-level RPCs, rejects
// RPCs that are not built yet by name, guards its socket, and exits 0 on SIGTERM or SIGINT.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/file.h"
#include "e2e/support/daemon.h"

namespace berth::e2e {
namespace {

class BerthdBasicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestDaemon>> daemon = TestDaemon::Start();
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  void TearDown() override {
    if (!daemon_ || !HasFailure()) return;
    (void)daemon_->Stop();
    std::fprintf(stderr, "berthd log:\n%s", daemon_->ReadLog().c_str());
  }

  std::unique_ptr<TestDaemon> daemon_;
};

TEST_F(BerthdBasicsTest, VersionNamesBerth) {
  runtime::v1::VersionResponse version;
  grpc::Status status = daemon_->runtime().Version(NewClientContext().get(), {}, &version);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(version.runtime_name(), "berth");
  EXPECT_EQ(version.runtime_api_version(), "v1");
  EXPECT_EQ(version.version(), "0.1.0");
  EXPECT_FALSE(version.runtime_version().empty());
}

TEST_F(BerthdBasicsTest, StatusReportsConditions) {
  runtime::v1::StatusResponse response;
  grpc::Status status = daemon_->runtime().Status(NewClientContext().get(), {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.status().conditions_size(), 2);
  EXPECT_EQ(response.status().conditions(0).type(), "RuntimeReady");
  EXPECT_TRUE(response.status().conditions(0).status());
  const runtime::v1::RuntimeCondition& network = response.status().conditions(1);
  EXPECT_EQ(network.type(), "NetworkReady");
  if (!network.status()) {
    EXPECT_FALSE(network.reason().empty());
    EXPECT_FALSE(network.message().empty());
  }
}

TEST_F(BerthdBasicsTest, RuntimeConfigUsesCgroupfs) {
  runtime::v1::RuntimeConfigResponse response;
  grpc::Status status = daemon_->runtime().RuntimeConfig(NewClientContext().get(), {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.linux().cgroup_driver(), runtime::v1::CGROUPFS);
}

TEST_F(BerthdBasicsTest, UnbuiltRpcIsNamed) {
  runtime::v1::RestorePodResponse response;
  grpc::Status status = daemon_->runtime().RestorePod(NewClientContext().get(), {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(status.error_message(),
            "runtime.v1.RuntimeService/RestorePod is not implemented by berth");
}

TEST_F(BerthdBasicsTest, SocketAndFoldersAreMade) {
  struct stat st {};
  ASSERT_EQ(::stat(daemon_->socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_TRUE(PathExists(daemon_->root()));
  EXPECT_TRUE(PathExists(daemon_->state()));
}

TEST_F(BerthdBasicsTest, SecondDaemonOnSameSocketFails) {
  std::string other = JoinPath(daemon_->root(), "other");
  absl::StatusOr<BerthdExit> second =
      RunBerthdToExit({"--config", "/dev/null", "--root", JoinPath(other, "root"), "--state",
                       JoinPath(other, "state"), "--listen", daemon_->socket_path()});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(WIFEXITED(second->wait_status));
  EXPECT_EQ(WEXITSTATUS(second->wait_status), 1);
  EXPECT_NE(second->output.find("another process already serves"), std::string::npos)
      << second->output;

  runtime::v1::VersionResponse version;
  grpc::Status status = daemon_->runtime().Version(NewClientContext().get(), {}, &version);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(BerthdBasicsTest, SecondDaemonOnSameRootFails) {
  std::string other = JoinPath(daemon_->root(), "other");
  absl::StatusOr<BerthdExit> second =
      RunBerthdToExit({"--config", "/dev/null", "--root", daemon_->root(), "--state",
                       JoinPath(other, "state"), "--listen", JoinPath(other, "berth.sock")});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(WIFEXITED(second->wait_status));
  EXPECT_EQ(WEXITSTATUS(second->wait_status), 1);
  EXPECT_NE(second->output.find("another berthd already uses " + daemon_->root()),
            std::string::npos)
      << second->output;
  EXPECT_FALSE(PathExists(JoinPath(other, "berth.sock")));
}

TEST_F(BerthdBasicsTest, StaleSocketIsReplaced) {
  std::string stale_path = JoinPath(daemon_->root(), "stale.sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", stale_path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);

  TestDaemonOptions options;
  options.socket_path = stale_path;
  absl::StatusOr<std::unique_ptr<TestDaemon>> second = TestDaemon::Start(options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE((*second)->ReadLog().find("removed stale socket"), std::string::npos);
}

TEST_F(BerthdBasicsTest, SigtermExitsZero) {
  absl::StatusOr<int> wait_status = daemon_->Stop();
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  ASSERT_TRUE(WIFEXITED(*wait_status)) << "wait status " << *wait_status;
  EXPECT_EQ(WEXITSTATUS(*wait_status), 0);
  EXPECT_FALSE(PathExists(daemon_->socket_path()));
  EXPECT_TRUE(PathExists(daemon_->root()));
}

TEST_F(BerthdBasicsTest, SigintExitsZero) {
  absl::StatusOr<int> wait_status = daemon_->Stop(std::chrono::seconds(10), SIGINT);
  ASSERT_TRUE(wait_status.ok()) << wait_status.status();
  ASSERT_TRUE(WIFEXITED(*wait_status)) << "wait status " << *wait_status;
  EXPECT_EQ(WEXITSTATUS(*wait_status), 0);
}

}  // namespace
}  // namespace berth::e2e
