#include "network/cni_manager.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "fake_plugin.h"
#include "temp_dir.h"

namespace berth::network {
namespace {

constexpr char kFirstResult[] =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/ns"}],)"
    R"("ips":[{"address":"fd00::7/64","interface":0},{"address":"10.1.0.7/24","interface":0}]})";
constexpr char kSecondResult[] =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/ns"}],)"
    R"("ips":[{"address":"10.1.0.7/24","interface":0},{"address":"fd00::7/64","interface":0}]})";

class CniManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeDirs(conf_dir(), 0755).ok());
    ASSERT_TRUE(MakeDirs(bin_dir(), 0755).ok());
    WriteFakePlugin(bin_dir(), "first", kFirstResult);
    WriteFakePlugin(bin_dir(), "second", kSecondResult);
    WriteFakePlugin(bin_dir(), "ports", kSecondResult);
    options_.conf_dir = conf_dir();
    options_.bin_dirs = {bin_dir()};
    options_.cache_dir = dir_.Sub("cache");
    options_.plugin_timeout = absl::Seconds(10);
  }

  std::string conf_dir() const { return dir_.Sub("net.d"); }
  std::string bin_dir() const { return dir_.Sub("bin"); }

  void WriteConf(const std::string& plugins, const std::string& version = "1.0.0") {
    ASSERT_TRUE(WriteFile(JoinPath(conf_dir(), "10-test.conflist"),
                          absl::StrCat(R"({"cniVersion":")", version,
                                       R"(","name":"testnet","plugins":[)", plugins, "]}"))
                    .ok());
  }

  nlohmann::json Stdin(const std::string& plugin, const std::string& command) {
    auto text = ReadFile(JoinPath(bin_dir(), plugin + "." + command + ".stdin"));
    EXPECT_TRUE(text.ok()) << plugin << " " << command;
    return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
  }

  PodNetworkRequest Request() {
    PodNetworkRequest request;
    request.sandbox_id = "sb1";
    request.netns = "/proc/self/ns/net";
    request.pod_name = "web";
    request.pod_namespace = "default";
    request.pod_uid = "uid-1";
    request.port_mappings = {{8080, 80, "tcp", ""}};
    request.ingress_bps = 1000000;
    request.dns.servers = {"10.96.0.10"};
    return request;
  }

  TempDir dir_;
  CniManagerOptions options_;
};

TEST_F(CniManagerTest, AddChainsPrevResultAndPassesDeclaredCapabilities) {
  WriteConf(R"({"type":"first"},{"type":"second"},{"type":"ports","capabilities":{"portMappings":true,"dns":false}})");
  CniManager manager(options_);
  auto result = manager.Setup(Request());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ips, (std::vector<std::string>{"10.1.0.7", "fd00::7"}));

  std::vector<std::string> calls = FakeCalls(bin_dir());
  ASSERT_EQ(calls.size(), 3u);
  std::string env = " sb1 /proc/self/ns/net eth0 IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
                    "K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=uid-1 " +
                    bin_dir();
  EXPECT_EQ(calls[0], "ADD first" + env);
  EXPECT_EQ(calls[1], "ADD second" + env);
  EXPECT_EQ(calls[2], "ADD ports" + env);

  nlohmann::json first = Stdin("first", "ADD");
  EXPECT_EQ(first["name"], "testnet");
  EXPECT_EQ(first["cniVersion"], "1.0.0");
  EXPECT_FALSE(first.contains("prevResult"));
  EXPECT_FALSE(first.contains("runtimeConfig"));
  EXPECT_EQ(Stdin("second", "ADD")["prevResult"], nlohmann::json::parse(kFirstResult));
  nlohmann::json ports = Stdin("ports", "ADD");
  EXPECT_EQ(ports["prevResult"], nlohmann::json::parse(kSecondResult));
  EXPECT_EQ(ports["runtimeConfig"],
            nlohmann::json::parse(
                R"({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})"));
  EXPECT_TRUE(manager.HasAttachment("sb1"));
}

TEST_F(CniManagerTest, BandwidthDnsAndPodCidrCapabilities) {
  WriteConf(R"({"type":"first","capabilities":{"bandwidth":true,"dns":true,"ipRanges":true}})");
  CniManager manager(options_);
  ASSERT_FALSE(manager.SetPodCidr("10.0.0.0/40").ok());
  ASSERT_TRUE(manager.SetPodCidr("10.244.3.0/24").ok());
  ASSERT_TRUE(manager.Setup(Request()).ok());
  EXPECT_EQ(Stdin("first", "ADD")["runtimeConfig"], nlohmann::json::parse(R"({
    "bandwidth":{"ingressRate":1000000,"ingressBurst":2147483647},
    "dns":{"servers":["10.96.0.10"],"searches":[],"options":[]},
    "ipRanges":[[{"subnet":"10.244.3.0/24"}]]})"));
}

TEST_F(CniManagerTest, DelRunsInReverseWithRecordedConfigAfterRestart) {
  WriteConf(R"({"type":"first"},{"type":"second"})");
  {
    CniManager manager(options_);
    ASSERT_TRUE(manager.Setup(Request()).ok());
  }
  // The configuration changes and berthd restarts: DEL must still undo what ADD did.
  WriteConf(R"({"type":"ports"})", "0.4.0");
  CniManager restarted(options_);
  ASSERT_TRUE(restarted.Teardown("sb1", "/nonexistent/netns").ok());
  std::vector<std::string> calls = FakeCalls(bin_dir());
  ASSERT_EQ(calls.size(), 4u);
  // The netns is no longer a pinned namespace, so plugins get an empty CNI_NETNS.
  EXPECT_EQ(calls[2].substr(0, 20), "DEL second sb1  eth0");
  EXPECT_EQ(calls[3].substr(0, 19), "DEL first sb1  eth0");
  EXPECT_EQ(Stdin("first", "DEL")["prevResult"], nlohmann::json::parse(kSecondResult));
  EXPECT_EQ(Stdin("first", "DEL")["cniVersion"], "1.0.0");
  EXPECT_FALSE(restarted.HasAttachment("sb1"));
  ASSERT_TRUE(restarted.Teardown("sb1", "").ok());
  EXPECT_EQ(FakeCalls(bin_dir()).size(), 4u);
}

TEST_F(CniManagerTest, FailedAddIsUndoneAndReportsThePluginMessage) {
  WriteFakePlugin(bin_dir(), "broken", "", 0,
                  "[ \"$CNI_COMMAND\" = ADD ] && { echo '{\"code\":7,\"msg\":\"invalid bridge name\"}'; "
                  "exit 1; }\n");
  WriteConf(R"({"type":"first"},{"type":"broken"},{"type":"second"})");
  CniManager manager(options_);
  auto result = manager.Setup(Request());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("CNI plugin broken ADD failed: invalid bridge name (code 7)"),
            std::string::npos)
      << result.status();
  // Plugins after the failing one never ran ADD, so only the first two get DEL.
  std::vector<std::string> calls = FakeCalls(bin_dir());
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[2].rfind("DEL broken", 0), 0u);
  EXPECT_EQ(calls[3].rfind("DEL first", 0), 0u);
  EXPECT_FALSE(manager.HasAttachment("sb1"));
}

TEST_F(CniManagerTest, MissingPluginIsNamedAndWhatRanIsUndone) {
  WriteConf(R"({"type":"first"},{"type":"absent"})");
  CniManager manager(options_);
  auto result = manager.Setup(Request());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("CNI plugin \"absent\" not found"), std::string::npos)
      << result.status();
  std::vector<std::string> calls = FakeCalls(bin_dir());
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].rfind("DEL first", 0), 0u);
  EXPECT_FALSE(manager.HasAttachment("sb1"));
}

TEST_F(CniManagerTest, FailedDelKeepsTheRecordForTheNextTry) {
  WriteFakePlugin(bin_dir(), "sticky", kSecondResult, 0,
                  "[ \"$CNI_COMMAND\" = DEL ] && [ ! -e \"$d/ok\" ] && "
                  "{ echo '{\"code\":999,\"msg\":\"busy\"}'; exit 1; }\n");
  WriteConf(R"({"type":"first"},{"type":"sticky"})");
  CniManager manager(options_);
  ASSERT_TRUE(manager.Setup(Request()).ok());
  absl::Status first_try = manager.Teardown("sb1", "");
  EXPECT_NE(first_try.message().find("busy"), std::string::npos) << first_try;
  EXPECT_TRUE(manager.HasAttachment("sb1"));
  ASSERT_TRUE(WriteFile(JoinPath(bin_dir(), "ok"), "").ok());
  EXPECT_TRUE(manager.Teardown("sb1", "").ok());
  EXPECT_FALSE(manager.HasAttachment("sb1"));
}

TEST_F(CniManagerTest, CheckRunsInOrderWithTheRecordedResult) {
  WriteConf(R"({"type":"first"},{"type":"second"})");
  CniManager manager(options_);
  EXPECT_TRUE(absl::IsNotFound(manager.Check("sb1", "")));
  ASSERT_TRUE(manager.Setup(Request()).ok());
  ASSERT_TRUE(manager.Check("sb1", "/proc/self/ns/net").ok());
  std::vector<std::string> calls = FakeCalls(bin_dir());
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[2].rfind("CHECK first", 0), 0u);
  EXPECT_EQ(calls[3].rfind("CHECK second", 0), 0u);
  EXPECT_EQ(Stdin("first", "CHECK")["prevResult"], nlohmann::json::parse(kSecondResult));
}

TEST_F(CniManagerTest, ConditionFollowsTheDirectory) {
  CniManager manager(options_);
  NetworkCondition none = manager.Condition();
  EXPECT_FALSE(none.ready);
  EXPECT_EQ(none.reason, "NetworkPluginNotReady");
  EXPECT_NE(none.message.find("no CNI network config"), std::string::npos) << none.message;
  EXPECT_FALSE(manager.Configured());

  ASSERT_TRUE(WriteFile(JoinPath(conf_dir(), "10-test.conflist"), "{oops").ok());
  EXPECT_TRUE(manager.Configured());
  EXPECT_NE(manager.Condition().message.find("not valid JSON"), std::string::npos);
  auto setup = manager.Setup(Request());
  EXPECT_EQ(setup.status().code(), absl::StatusCode::kFailedPrecondition);

  WriteConf(R"({"type":"first"},{"type":"absent"})");
  EXPECT_NE(manager.Condition().message.find("CNI plugin \"absent\" not found"), std::string::npos);

  WriteConf(R"({"type":"first"})");
  EXPECT_TRUE(manager.Condition().ready) << manager.Condition().message;
}

}  // namespace
}  // namespace berth::network
