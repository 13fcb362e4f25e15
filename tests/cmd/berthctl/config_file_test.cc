#include "cmd/berthctl/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "base/file.h"

namespace berth::ctl {
namespace {

using runtime::v1::ContainerConfig;
using runtime::v1::PodSandboxConfig;

// A pod config as crictl's documentation writes it, in proto field names.
constexpr char kPodYamlSnake[] = R"(
metadata:
  name: nginx-sandbox
  namespace: default
  attempt: 1
  uid: hdishd83djaidwnduwk28bcsb
log_directory: /tmp
hostname: "0123"
dns_config:
  servers: [10.0.0.10]
  searches: [default.svc.cluster.local]
port_mappings:
  - protocol: TCP
    container_port: 80
    host_port: 8080
labels:
  app: nginx
  replicas: "3"
  enabled: yes
linux:
  cgroup_parent: /berth/pods
  security_context:
    namespace_options:
      network: NODE
    run_as_user:
      value: 1000
    supplemental_groups: [1, 2]
  sysctls:
    net.ipv4.ip_forward: "1"
)";

// The same pod in JSON names, as JSON.
constexpr char kPodJsonCamel[] = R"({
  "metadata": {"name": "nginx-sandbox", "namespace": "default", "attempt": 1,
               "uid": "hdishd83djaidwnduwk28bcsb"},
  "logDirectory": "/tmp",
  "hostname": "0123",
  "dnsConfig": {"servers": ["10.0.0.10"], "searches": ["default.svc.cluster.local"]},
  "portMappings": [{"protocol": "TCP", "containerPort": 80, "hostPort": 8080}],
  "labels": {"app": "nginx", "replicas": "3", "enabled": "yes"},
  "linux": {
    "cgroupParent": "/berth/pods",
    "securityContext": {"namespaceOptions": {"network": "NODE"},
                        "runAsUser": {"value": "1000"}, "supplementalGroups": [1, 2]},
    "sysctls": {"net.ipv4.ip_forward": "1"}
  }
})";

void ExpectNginxPod(const PodSandboxConfig& pod) {
  EXPECT_EQ(pod.metadata().name(), "nginx-sandbox");
  EXPECT_EQ(pod.metadata().namespace_(), "default");
  EXPECT_EQ(pod.metadata().attempt(), 1u);
  EXPECT_EQ(pod.metadata().uid(), "hdishd83djaidwnduwk28bcsb");
  EXPECT_EQ(pod.log_directory(), "/tmp");
  EXPECT_EQ(pod.hostname(), "0123");
  ASSERT_EQ(pod.dns_config().servers_size(), 1);
  EXPECT_EQ(pod.dns_config().servers(0), "10.0.0.10");
  ASSERT_EQ(pod.port_mappings_size(), 1);
  EXPECT_EQ(pod.port_mappings(0).protocol(), runtime::v1::TCP);
  EXPECT_EQ(pod.port_mappings(0).container_port(), 80);
  EXPECT_EQ(pod.port_mappings(0).host_port(), 8080);
  EXPECT_EQ(pod.labels().at("app"), "nginx");
  EXPECT_EQ(pod.labels().at("replicas"), "3");
  EXPECT_EQ(pod.labels().at("enabled"), "yes");
  EXPECT_EQ(pod.linux().cgroup_parent(), "/berth/pods");
  EXPECT_EQ(pod.linux().security_context().namespace_options().network(), runtime::v1::NODE);
  EXPECT_EQ(pod.linux().security_context().run_as_user().value(), 1000);
  ASSERT_EQ(pod.linux().security_context().supplemental_groups_size(), 2);
  EXPECT_EQ(pod.linux().security_context().supplemental_groups(1), 2);
  EXPECT_EQ(pod.linux().sysctls().at("net.ipv4.ip_forward"), "1");
}

TEST(ParseConfigTest, LoadsYamlWithProtoNames) {
  PodSandboxConfig pod;
  ASSERT_TRUE(ParseConfig(kPodYamlSnake, ConfigFormat::kYaml, &pod).ok());
  ExpectNginxPod(pod);
}

TEST(ParseConfigTest, LoadsJsonWithJsonNames) {
  PodSandboxConfig pod;
  const absl::Status status = ParseConfig(kPodJsonCamel, ConfigFormat::kJson, &pod);
  ASSERT_TRUE(status.ok()) << status;
  ExpectNginxPod(pod);
}

TEST(ParseConfigTest, YamlParserReadsJsonToo) {
  PodSandboxConfig pod;
  const absl::Status status = ParseConfig(kPodJsonCamel, ConfigFormat::kYaml, &pod);
  ASSERT_TRUE(status.ok()) << status;
  ExpectNginxPod(pod);
}

TEST(ParseConfigTest, LoadsContainerConfigInBothNamings) {
  constexpr char kSnake[] = R"(
metadata: {name: busybox}
image: {image: "docker.io/library/busybox:latest"}
command: [/bin/sh, -c]
args: ["echo hello; sleep 1000"]
working_dir: /
envs:
  - {key: GREETING, value: hello world}
  - {key: COUNT, value: 3}
mounts:
  - container_path: /data
    host_path: /tmp/data
    readonly: true
    propagation: PROPAGATION_HOST_TO_CONTAINER
log_path: busybox.0.log
tty: false
stop_signal: SIGNAL_SIGTERM
linux:
  resources:
    memory_limit_in_bytes: 67108864
    cpu_shares: 512
  security_context:
    capabilities:
      add_capabilities: [NET_ADMIN]
    no_new_privs: true
)";
  constexpr char kCamel[] = R"({
  "metadata": {"name": "busybox"},
  "image": {"image": "docker.io/library/busybox:latest"},
  "command": ["/bin/sh", "-c"],
  "args": ["echo hello; sleep 1000"],
  "workingDir": "/",
  "envs": [{"key": "GREETING", "value": "hello world"}, {"key": "COUNT", "value": 3}],
  "mounts": [{"containerPath": "/data", "hostPath": "/tmp/data", "readonly": true,
              "propagation": "PROPAGATION_HOST_TO_CONTAINER"}],
  "logPath": "busybox.0.log",
  "tty": false,
  "stopSignal": "SIGNAL_SIGTERM",
  "linux": {"resources": {"memoryLimitInBytes": 67108864, "cpuShares": 512},
            "securityContext": {"capabilities": {"addCapabilities": ["NET_ADMIN"]},
                                "noNewPrivs": true}}
})";
  for (const auto& [text, format] :
       {std::pair{kSnake, ConfigFormat::kYaml}, std::pair{kCamel, ConfigFormat::kJson}}) {
    ContainerConfig config;
    const absl::Status status = ParseConfig(text, format, &config);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(config.metadata().name(), "busybox");
    EXPECT_EQ(config.image().image(), "docker.io/library/busybox:latest");
    ASSERT_EQ(config.command_size(), 2);
    EXPECT_EQ(config.args(0), "echo hello; sleep 1000");
    EXPECT_EQ(config.working_dir(), "/");
    ASSERT_EQ(config.envs_size(), 2);
    EXPECT_EQ(config.envs(0).value(), "hello world");  // plain text, not base64
    EXPECT_EQ(config.envs(1).value(), "3");
    ASSERT_EQ(config.mounts_size(), 1);
    EXPECT_TRUE(config.mounts(0).readonly());
    EXPECT_EQ(config.mounts(0).propagation(), runtime::v1::PROPAGATION_HOST_TO_CONTAINER);
    EXPECT_EQ(config.log_path(), "busybox.0.log");
    EXPECT_EQ(config.stop_signal(), runtime::v1::SIGNAL_SIGTERM);
    EXPECT_EQ(config.linux().resources().memory_limit_in_bytes(), 67108864);
    EXPECT_EQ(config.linux().resources().cpu_shares(), 512);
    EXPECT_EQ(config.linux().security_context().capabilities().add_capabilities(0), "NET_ADMIN");
    EXPECT_TRUE(config.linux().security_context().no_new_privs());
  }
}

TEST(ParseConfigTest, AcceptsEnumsByNumberOrLetterCase) {
  ContainerConfig config;
  ASSERT_TRUE(ParseConfig("stop_signal: sigkill_is_not_a_name", ConfigFormat::kYaml, &config)
                  .code() == absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ParseConfig("stop_signal: signal_sigkill", ConfigFormat::kYaml, &config).ok());
  EXPECT_EQ(config.stop_signal(), runtime::v1::SIGNAL_SIGKILL);
  ASSERT_TRUE(ParseConfig(R"({"stop_signal": 23})", ConfigFormat::kJson, &config).ok());
  EXPECT_EQ(config.stop_signal(), runtime::v1::SIGNAL_SIGTERM);
}

TEST(ParseConfigTest, NullAndEmptyValuesAreLeftUnset) {
  PodSandboxConfig pod;
  const absl::Status status =
      ParseConfig("metadata:\n  name: a\nhostname:\nlinux: ~\nlabels: {}\n", ConfigFormat::kYaml,
                  &pod);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(pod.metadata().name(), "a");
  EXPECT_FALSE(pod.has_linux());
  EXPECT_TRUE(pod.hostname().empty());
}

TEST(ParseConfigTest, QuotedNullWordsStayText) {
  PodSandboxConfig pod;
  ASSERT_TRUE(ParseConfig("hostname: \"~\"\nlog_directory: 'null'\n", ConfigFormat::kYaml, &pod)
                  .ok());
  EXPECT_EQ(pod.hostname(), "~");
  EXPECT_EQ(pod.log_directory(), "null");
}

TEST(ParseConfigTest, ErrorsNameTheField) {
  PodSandboxConfig pod;
  absl::Status status = ParseConfig("metadata:\n  attempt: many\n", ConfigFormat::kYaml, &pod);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "metadata.attempt: expected an unsigned 32-bit integer, got \"many\"");

  status = ParseConfig(R"({"metadata": {"nmae": "x"}})", ConfigFormat::kJson, &pod);
  EXPECT_EQ(status.message(),
            "metadata.nmae: unknown field (runtime.v1.PodSandboxMetadata has no field \"nmae\")");

  status = ParseConfig("port_mappings:\n  - host_port: 3000000000\n", ConfigFormat::kYaml, &pod);
  EXPECT_EQ(status.message(),
            "port_mappings[0].host_port: expected a 32-bit integer, got \"3000000000\"");

  status = ParseConfig("linux:\n  security_context:\n    privileged: perhaps\n",
                       ConfigFormat::kYaml, &pod);
  EXPECT_EQ(status.message(),
            "linux.security_context.privileged: expected true or false, got \"perhaps\"");

  status = ParseConfig("labels: [a, b]\n", ConfigFormat::kYaml, &pod);
  EXPECT_EQ(status.message(), "labels: expected a mapping of keys to values, got [\"a\",\"b\"]");

  status = ParseConfig("dns_config:\n  servers: 10.0.0.1\n", ConfigFormat::kYaml, &pod);
  EXPECT_EQ(status.message(), "dns_config.servers: expected a list, got \"10.0.0.1\"");

  status = ParseConfig(R"({"log_directory": "/a", "logDirectory": "/b"})", ConfigFormat::kJson,
                       &pod);
  EXPECT_NE(status.message().find("field given twice"), std::string::npos) << status;

  status = ParseConfig("- just\n- a list\n", ConfigFormat::kYaml, &pod);
  EXPECT_NE(status.message().find("top level: expected a mapping"), std::string::npos) << status;
}

TEST(ParseConfigTest, SyntaxErrorsSayWhere) {
  PodSandboxConfig pod;
  absl::Status status = ParseConfig("{\"metadata\": {", ConfigFormat::kJson, &pod);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("invalid JSON"), std::string::npos) << status;
  EXPECT_NE(status.message().find("line 1"), std::string::npos) << status;

  status = ParseConfig("metadata:\n  name: [unclosed\n", ConfigFormat::kYaml, &pod);
  EXPECT_NE(status.message().find("invalid YAML at line"), std::string::npos) << status;

  EXPECT_FALSE(ParseConfig("", ConfigFormat::kYaml, &pod).ok());
}

TEST(DetectConfigFormatTest, ByExtensionThenContent) {
  EXPECT_EQ(DetectConfigFormat("pod.json", "a: b"), ConfigFormat::kJson);
  EXPECT_EQ(DetectConfigFormat("pod.YAML", "{}"), ConfigFormat::kYaml);
  EXPECT_EQ(DetectConfigFormat("pod.yml", "{}"), ConfigFormat::kYaml);
  EXPECT_EQ(DetectConfigFormat("pod.conf", "  \n {\"a\": 1}"), ConfigFormat::kJson);
  EXPECT_EQ(DetectConfigFormat("pod", "metadata:\n  name: x\n"), ConfigFormat::kYaml);
}

class LoadConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berthctl-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = JoinPath(dir_, name);
    EXPECT_TRUE(WriteFile(path, text).ok());
    return path;
  }

  std::string dir_;
};

TEST_F(LoadConfigFileTest, LoadsBothFormatsFromFiles) {
  absl::StatusOr<PodSandboxConfig> from_yaml =
      LoadPodSandboxConfig(Write("pod.yaml", kPodYamlSnake));
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  ExpectNginxPod(*from_yaml);

  // No extension: the leading brace marks JSON.
  absl::StatusOr<PodSandboxConfig> from_json = LoadPodSandboxConfig(Write("pod", kPodJsonCamel));
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  ExpectNginxPod(*from_json);

  absl::StatusOr<ContainerConfig> container =
      LoadContainerConfig(Write("c.yml", "metadata: {name: c}\nimage: {image: busybox}\n"));
  ASSERT_TRUE(container.ok()) << container.status();
  EXPECT_EQ(container->image().image(), "busybox");
}

TEST_F(LoadConfigFileTest, ErrorsNameTheFile) {
  const std::string path = Write("bad.json", R"({"metadata": {"attempt": -1}})");
  absl::StatusOr<PodSandboxConfig> pod = LoadPodSandboxConfig(path);
  EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pod.status().message(),
            path + ": metadata.attempt: expected an unsigned 32-bit integer, got -1");

  absl::StatusOr<PodSandboxConfig> missing = LoadPodSandboxConfig(JoinPath(dir_, "none.yaml"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("none.yaml"), std::string::npos);
}

}  // namespace
}  // namespace berth::ctl
