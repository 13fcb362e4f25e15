#include "network/cni_invoke.h"

#include <gtest/gtest.h>

#include <chrono>

#include "base/file.h"
#include "fake_plugin.h"
#include "temp_dir.h"

namespace berth::network {
namespace {

CniCall AddCall(const std::string& bin_dir) {
  CniCall call;
  call.command = "ADD";
  call.container_id = "c1";
  call.netns = "/run/netns/c1";
  call.ifname = "eth0";
  call.args = "IgnoreUnknown=1;K8S_POD_NAME=web";
  call.bin_dirs = {"/nonexistent", bin_dir};
  call.timeout = absl::Seconds(10);
  return call;
}

TEST(InvokeCniPlugin, PassesEnvironmentAndStdinAndParsesResult) {
  TempDir dir;
  WriteFakePlugin(dir.path(), "ok", R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]})");
  nlohmann::json config = {{"cniVersion", "1.0.0"}, {"name", "n"}, {"type", "ok"}};
  auto result = InvokeCniPlugin("ok", config, AddCall(dir.path()));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ((*result)["ips"][0]["address"], "10.0.0.2/24");
  std::vector<std::string> calls = FakeCalls(dir.path());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], "ADD ok c1 /run/netns/c1 eth0 IgnoreUnknown=1;K8S_POD_NAME=web /nonexistent:" +
                          dir.path());
  auto stdin_text = ReadFile(dir.Sub("ok.ADD.stdin"));
  ASSERT_TRUE(stdin_text.ok());
  EXPECT_EQ(nlohmann::json::parse(*stdin_text), config);
}

TEST(InvokeCniPlugin, ErrorObjectAndStderrReachTheMessage) {
  TempDir dir;
  WriteFakePlugin(dir.path(), "bad",
                  R"({"cniVersion":"1.0.0","code":11,"msg":"no free address","details":"range full"})",
                  1, "echo 'allocator says hi' >&2\n");
  auto result = InvokeCniPlugin("bad", {{"type", "bad"}}, AddCall(dir.path()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(),
            "CNI plugin bad ADD failed: no free address: range full (code 11); stderr: allocator "
            "says hi");
}

TEST(InvokeCniPlugin, RawOutputWhenNoErrorObject) {
  TempDir dir;
  WriteFakePlugin(dir.path(), "crash", "panic: oops", 2);
  auto result = InvokeCniPlugin("crash", {{"type", "crash"}}, AddCall(dir.path()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "CNI plugin crash ADD exited with status 2; output: panic: oops");
}

TEST(InvokeCniPlugin, HangingPluginAndItsChildrenAreKilled) {
  TempDir dir;
  WriteFakePlugin(dir.path(), "hang", "{}", 0, "echo started >&2\nsleep 30\n");
  CniCall call = AddCall(dir.path());
  call.timeout = absl::Milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto result = InvokeCniPlugin("hang", {{"type", "hang"}}, call);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(result.status().message().find("did not finish within 300ms"), std::string::npos)
      << result.status();
  EXPECT_NE(result.status().message().find("stderr: started"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(InvokeCniPlugin, MissingPluginIsFailedPrecondition) {
  TempDir dir;
  auto result = InvokeCniPlugin("nope", {{"type", "nope"}}, AddCall(dir.path()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("CNI plugin \"nope\" not found in /nonexistent:"),
            std::string::npos);
}

TEST(InvokeCniPlugin, EmptyOutputIsNull) {
  TempDir dir;
  WriteFakePlugin(dir.path(), "quiet", "");
  CniCall call = AddCall(dir.path());
  call.command = "DEL";
  auto result = InvokeCniPlugin("quiet", {{"type", "quiet"}}, call);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->is_null());
}

}  // namespace
}  // namespace berth::network
