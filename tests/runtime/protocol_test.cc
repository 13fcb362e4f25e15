#include "runtime/shim/protocol.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "base/file.h"

namespace berth::runtime {
namespace {

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-protocol-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(tmp_).ok()); }

  // Serves one connection: reads the request line and writes `response`.
  std::thread ServeOnce(int listener, nlohmann::json response, std::string* request) {
    return std::thread([listener, response, request] {
      int fd = -1;
      for (int i = 0; i < 500 && fd < 0; ++i) {
        fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) ::usleep(2000);
      }
      if (fd < 0) return;
      char buffer[1024];
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n > 0) request->assign(buffer, static_cast<size_t>(n));
      std::string line = response.dump() + "\n";
      ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
      ::close(fd);
    });
  }

  std::string tmp_;
};

TEST_F(ProtocolTest, CallReturnsState) {
  std::string path = JoinPath(tmp_, "shim.sock");
  auto listener = ListenUnix(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::string request;
  std::thread server = ServeOnce(listener->get(), OkResponse({{"status", "running"}}), &request);
  auto state = CallShim(path, {{"op", "state"}}, absl::Now() + absl::Seconds(5));
  server.join();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ((*state)["status"], "running");
  EXPECT_EQ(request, "{\"op\":\"state\"}\n");
}

TEST_F(ProtocolTest, ErrorResponseKeepsCode) {
  std::string path = JoinPath(tmp_, "shim.sock");
  auto listener = ListenUnix(path);
  ASSERT_TRUE(listener.ok());
  std::string request;
  std::thread server = ServeOnce(
      listener->get(), ErrorResponse(absl::FailedPreconditionError("not created")), &request);
  auto state = CallShim(path, {{"op", "start"}}, absl::Now() + absl::Seconds(5));
  server.join();
  EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(state.status().message(), "not created");
}

TEST_F(ProtocolTest, LongSocketPath) {
  std::string dir = JoinPath(tmp_, std::string(120, 'd'));
  ASSERT_TRUE(MakeDirs(dir).ok());
  std::string path = JoinPath(dir, "shim.sock");
  auto listener = ListenUnix(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_TRUE(PathExists(path));
  std::string request;
  std::thread server = ServeOnce(listener->get(), OkResponse(nlohmann::json::object()), &request);
  auto state = CallShim(path, {{"op", "state"}}, absl::Now() + absl::Seconds(5));
  server.join();
  EXPECT_TRUE(state.ok()) << state.status();
}

TEST_F(ProtocolTest, NoShimIsUnavailable) {
  auto state =
      CallShim(JoinPath(tmp_, "missing.sock"), {{"op", "state"}}, absl::Now() + absl::Seconds(1));
  EXPECT_EQ(state.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace berth::runtime
