#include "e2e/support/network_fixture.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/id.h"
#include "base/status.h"

namespace berth::e2e {
namespace {

constexpr const char* kNetworkName = "berth-e2e";

}  // namespace

void NetworkTest::SetUp() {
  // Every process started from this thread from here on (registry, berthd, the plugins it
  // runs, shell commands) inherits the new namespace. TearDown moves the thread back.
  original_netns_.Reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(original_netns_.valid()) << "open own netns: " << std::strerror(errno);
  ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET): " << std::strerror(errno);
  absl::StatusOr<std::string> lo = Shell("ip link set lo up");
  ASSERT_TRUE(lo.ok()) << lo.status();

  char dir_template[] = "/tmp/berth-net-e2e.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr) << "mkdtemp: " << std::strerror(errno);
  dir_ = dir_template;
  conf_dir_ = JoinPath(dir_, "net.d");
  fake_bin_dir_ = JoinPath(dir_, "bin");
  ipam_dir_ = JoinPath(dir_, "ipam");
  for (const std::string& dir : {conf_dir_, fake_bin_dir_, ipam_dir_}) {
    ASSERT_TRUE(MakeDirs(dir, 0755).ok()) << dir;
  }
  std::random_device random;
  bridge_ = "bte" + NewId().substr(0, 10);
  subnet_prefix_ = absl::StrCat("10.", 100 + random() % 150, ".", random() % 250, ".");

  CriTest::SetUp();
}

void NetworkTest::TearDown() {
  CriTest::TearDown();
  if (original_netns_.valid() && ::setns(original_netns_.get(), CLONE_NEWNET) != 0) {
    ADD_FAILURE() << "setns back to the original netns: " << std::strerror(errno);
  }
  if (!dir_.empty()) (void)RemoveAll(dir_);
}

TestDaemonOptions NetworkTest::DaemonOptions() {
  TestDaemonOptions options;
  options.config_toml = absl::StrCat("[network]\nconf_dir = \"", conf_dir_, "\"\nbin_dirs = [\"",
                                     fake_bin_dir_, "\", \"", kDebianCniDir,
                                     "\"]\nplugin_timeout_seconds = 2\n");
  return options;
}

std::string NetworkTest::BridgeConflist(const std::string& extra_plugin) const {
  return absl::StrCat(R"({"cniVersion": "1.0.0", "name": ")", kNetworkName, R"(", "plugins": [
    {"type": "bridge", "bridge": ")", bridge_, R"(", "isGateway": true, "ipMasq": true,
     "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": ")", ipam_dir_, R"(",
              "ranges": [[{"subnet": ")", subnet_prefix_, R"(0/24"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"})",
                      extra_plugin.empty() ? "" : ",\n    " + extra_plugin, "]}\n");
}

void NetworkTest::WriteConfig(const std::string& text, const std::string& name) {
  ASSERT_TRUE(WriteFileAtomic(JoinPath(conf_dir_, name), text).ok());
}

void NetworkTest::WritePlugin(const std::string& name, const std::string& script) {
  std::string path = JoinPath(fake_bin_dir_, name);
  ASSERT_TRUE(WriteFileAtomic(path, script, 0755).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
}

absl::StatusOr<std::string> NetworkTest::Shell(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return ErrnoError(errno, "popen", command);
  std::string output;
  char buffer[4096];
  size_t n = 0;
  while ((n = ::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed: ", output));
  }
  return output;
}

std::vector<std::string> NetworkTest::Veths() {
  std::vector<std::string> names;
  absl::StatusOr<std::string> links = Shell("ip -o link show type veth");
  if (!links.ok()) return {"(ip link failed: " + std::string(links.status().message()) + ")"};
  for (absl::string_view line : absl::StrSplit(*links, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() > 1) names.push_back(fields[1]);
  }
  return names;
}

std::vector<std::string> NetworkTest::Allocations() {
  std::vector<std::string> addresses;
  for (const std::string& name : ListDir(JoinPath(ipam_dir_, kNetworkName))) {
    if (name == "lock" || absl::StartsWith(name, "last_reserved_ip")) continue;
    addresses.push_back(name);
  }
  return addresses;
}

std::vector<std::string> NetworkTest::NetworkLeftovers() {
  std::vector<std::string> found;
  for (const std::string& veth : Veths()) found.push_back("veth " + veth);
  for (const std::string& ip : Allocations()) found.push_back("host-local allocation " + ip);
  std::string records = JoinPath(daemon().root(), "cni");
  for (const std::string& name : ListDir(records)) found.push_back("cni record " + name);
  std::string pins = JoinPath(daemon().state(), "netns");
  for (const std::string& name : ListDir(pins)) found.push_back("netns pin " + name);
  return found;
}

absl::StatusOr<std::string> NetworkTest::Run(const std::string& id,
                                             const std::vector<std::string>& cmd,
                                             int timeout_seconds) {
  BERTH_ASSIGN_OR_RETURN(v1::ExecSyncResponse response, ExecSync(id, cmd, timeout_seconds));
  if (response.exit_code() != 0) {
    return absl::InternalError(absl::StrCat("exit ", response.exit_code(), ": ",
                                            response.stdout(), response.stderr()));
  }
  return response.stdout();
}

absl::StatusOr<std::string> NetworkTest::StartIn(const std::string& pod_id,
                                                 const v1::PodSandboxConfig& pod_config,
                                                 const std::string& name,
                                                 const std::vector<std::string>& command) {
  return StartNewContainer(pod_id, ContainerConfig(name, command), pod_config);
}

}  // namespace berth::e2e
