// A broken pod network fails RunPodSandbox with the plugin's own words, leaves nothing behind
// (netns, veth, address, attachment record), and the same request succeeds once it is fixed.
// One test per case: a configuration that does not parse, a missing plugin, a plugin that exits
// non-zero, a plugin that hangs.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "e2e/support/network_fixture.h"

namespace berth::e2e {
namespace {

class NetworkBadInputTest : public NetworkTest {
 protected:
  // Runs the pod and expects it to fail with every one of `expected` in the message, and
  // nothing of it left.
  void ExpectFailure(const std::vector<std::string>& expected) {
    absl::StatusOr<std::string> pod = RunPod(PodConfig("bad"));
    ASSERT_FALSE(pod.ok()) << "RunPodSandbox succeeded";
    for (const std::string& text : expected) {
      EXPECT_TRUE(absl::StrContains(pod.status().message(), text))
          << "\"" << text << "\" missing from: " << pod.status();
    }
    v1::ListPodSandboxResponse pods;
    ASSERT_TRUE(
        runtime().ListPodSandbox(NewClientContext().get(), v1::ListPodSandboxRequest(), &pods).ok());
    EXPECT_EQ(pods.items_size(), 0);
    std::vector<std::string> left = NetworkLeftovers();
    EXPECT_TRUE(left.empty()) << absl::StrJoin(left, "\n");
  }

  // The same request succeeds after the fix, with an address from the test's subnet.
  void ExpectSuccess() {
    absl::StatusOr<std::string> pod = RunPod(PodConfig("bad"));
    ASSERT_TRUE(pod.ok()) << pod.status();
    absl::StatusOr<v1::PodSandboxStatusResponse> status = PodStatus(*pod);
    ASSERT_TRUE(status.ok());
    EXPECT_TRUE(absl::StartsWith(status->status().network().ip(), subnet_prefix()))
        << status->status().network().ip();
  }
};

TEST_F(NetworkBadInputTest, ConfigThatDoesNotParse) {
  ASSERT_NO_FATAL_FAILURE(WriteConfig(R"({"cniVersion": "1.0.0", "name": "x", "plugins": [)"));
  ASSERT_NO_FATAL_FAILURE(ExpectFailure({"10-test.conflist", "not valid JSON"}));
  ASSERT_NO_FATAL_FAILURE(InstallBridgeConfig());
  ASSERT_NO_FATAL_FAILURE(ExpectSuccess());
}

TEST_F(NetworkBadInputTest, MissingPlugin) {
  ASSERT_NO_FATAL_FAILURE(WriteConfig(BridgeConflist(R"({"type": "berth-e2e-absent"})")));
  // The bridge ran first and made a veth and took an address: both must be gone again.
  ASSERT_NO_FATAL_FAILURE(ExpectFailure({"CNI plugin \"berth-e2e-absent\" not found"}));
  ASSERT_NO_FATAL_FAILURE(InstallBridgeConfig());
  ASSERT_NO_FATAL_FAILURE(ExpectSuccess());
}

TEST_F(NetworkBadInputTest, PluginThatExitsNonZero) {
  ASSERT_NO_FATAL_FAILURE(WritePlugin("berth-e2e-fail", R"(#!/bin/sh
cat >/dev/null
if [ "$CNI_COMMAND" = ADD ]; then
  echo "quota service unreachable" >&2
  echo '{"cniVersion":"1.0.0","code":101,"msg":"cannot reserve quota","details":"pool exhausted"}'
  exit 1
fi
exit 0
)"));
  ASSERT_NO_FATAL_FAILURE(WriteConfig(BridgeConflist(R"({"type": "berth-e2e-fail"})")));
  ASSERT_NO_FATAL_FAILURE(ExpectFailure(
      {"CNI plugin berth-e2e-fail ADD failed: cannot reserve quota: pool exhausted (code 101)",
       "stderr: quota service unreachable"}));
  ASSERT_NO_FATAL_FAILURE(InstallBridgeConfig());
  ASSERT_NO_FATAL_FAILURE(ExpectSuccess());
}

TEST_F(NetworkBadInputTest, PluginThatHangs) {
  ASSERT_NO_FATAL_FAILURE(WritePlugin("berth-e2e-hang", R"(#!/bin/sh
cat >/dev/null
if [ "$CNI_COMMAND" = ADD ]; then
  echo "waiting for a lock" >&2
  sleep 60
fi
exit 0
)"));
  ASSERT_NO_FATAL_FAILURE(WriteConfig(BridgeConflist(R"({"type": "berth-e2e-hang"})")));
  auto start = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(ExpectFailure(
      {"CNI plugin berth-e2e-hang ADD did not finish within 2s and was killed",
       "stderr: waiting for a lock"}));
  EXPECT_LT(MillisSince(start), 15000);
  EXPECT_TRUE(ProcessesMentioning("berth-e2e-hang").empty());
  ASSERT_NO_FATAL_FAILURE(InstallBridgeConfig());
  ASSERT_NO_FATAL_FAILURE(ExpectSuccess());
}

}  // namespace
}  // namespace berth::e2e
