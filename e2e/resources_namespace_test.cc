// Sysctls and namespace modes end to end. Pod sysctls are read back from /proc/sys inside the
// container, and a sysctl value that smuggles a second key must be rejected. The PID modes POD,
// CONTAINER, NODE and TARGET, and IPC and network NODE, are compared with the host's namespaces.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/cri_fixture.h"

namespace berth::e2e {
namespace {

class ResourcesNamespaceTest : public CriTest {
 protected:
  std::string Exec(const std::string& id, const std::string& script) {
    absl::StatusOr<v1::ExecSyncResponse> out = ExecSync(id, {"sh", "-c", script}, 10);
    if (!out.ok()) return absl::StrCat("<", out.status().ToString(), ">");
    return std::string(absl::StripAsciiWhitespace(out->stdout()));
  }

  absl::StatusOr<std::string> Sleeper(const std::string& pod_id, const v1::PodSandboxConfig& pod,
                                      const std::string& name,
                                      v1::NamespaceMode pid = v1::POD,
                                      const std::string& target = "") {
    v1::ContainerConfig config = ContainerConfig(name, {"sleep", "60"});
    auto* options = config.mutable_linux()->mutable_security_context()->mutable_namespace_options();
    *options = pod.linux().security_context().namespace_options();
    options->set_pid(pid);
    options->set_target_id(target);
    return StartNewContainer(pod_id, config, pod);
  }

  // The namespace `name` of container `id`, or an error text that never equals a namespace.
  std::string NamespaceOfContainer(const std::string& id, const std::string& name) {
    absl::StatusOr<pid_t> pid = ContainerPid(id);
    if (!pid.ok()) return absl::StrCat("<", pid.status().ToString(), ">");
    absl::StatusOr<std::string> ns = NamespaceOf(*pid, name);
    return ns.ok() ? *ns : absl::StrCat("<", ns.status().ToString(), ">");
  }

  static std::string HostNamespace(const std::string& name) {
    absl::StatusOr<std::string> ns = NamespaceOf(::getpid(), name);
    return ns.ok() ? *ns : "<host>";
  }
};

TEST_F(ResourcesNamespaceTest, PodSysctlsInsideContainer) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("sysctls");
  auto& sysctls = *pod.mutable_linux()->mutable_sysctls();
  sysctls["net.ipv4.ping_group_range"] = "0 2147483647";
  sysctls["kernel.shmmni"] = "2048";
  sysctls["net.ipv4.ip_unprivileged_port_start"] = "80";
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> id = Sleeper(*pod_id, pod, "reader");
  ASSERT_TRUE(id.ok()) << id.status();

  EXPECT_EQ(Exec(*id, "cat /proc/sys/net/ipv4/ping_group_range"), "0\t2147483647");
  EXPECT_EQ(Exec(*id, "cat /proc/sys/kernel/shmmni"), "2048");
  EXPECT_EQ(Exec(*id, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start"), "80");
  // The host keeps its own values.
  absl::StatusOr<std::string> host = ReadFile("/proc/sys/kernel/shmmni");
  ASSERT_TRUE(host.ok());
  EXPECT_NE(std::string(absl::StripAsciiWhitespace(*host)), "2048");
}

// Escape: a sysctl value with a second assignment, or a key that is not namespaced, would set a
// host-wide sysctl such as kernel.core_pattern.
TEST_F(ResourcesNamespaceTest, SysctlValueCannotSmuggleSecondKey) {
  absl::StatusOr<std::string> before = ReadFile("/proc/sys/kernel/core_pattern");
  ASSERT_TRUE(before.ok());
  const std::string smuggled[] = {"1\nkernel.core_pattern=|/tmp/berth-e2e-core",
                                  "1 kernel.core_pattern=|/tmp/berth-e2e-core",
                                  "1;kernel.core_pattern=|/tmp/berth-e2e-core",
                                  "0\r\nkernel.core_pattern=x"};
  int attempt = 0;
  for (const std::string& value : smuggled) {
    v1::PodSandboxConfig pod = PodConfig(absl::StrCat("smuggle", attempt++));
    (*pod.mutable_linux()->mutable_sysctls())["net.ipv4.ip_forward"] = value;
    absl::StatusOr<std::string> pod_id = RunPod(pod);
    EXPECT_EQ(pod_id.status().code(), absl::StatusCode::kInvalidArgument) << pod_id.status();
  }
  v1::PodSandboxConfig host_key = PodConfig("hostkey");
  (*host_key.mutable_linux()->mutable_sysctls())["kernel.core_pattern"] = "|/tmp/x";
  EXPECT_EQ(RunPod(host_key).status().code(), absl::StatusCode::kInvalidArgument);
  v1::PodSandboxConfig dotted = PodConfig("dotted");
  (*dotted.mutable_linux()->mutable_sysctls())["net.ipv4.//.//.kernel.core_pattern"] = "x";
  EXPECT_EQ(RunPod(dotted).status().code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::string> after = ReadFile("/proc/sys/kernel/core_pattern");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  v1::ListPodSandboxResponse listed;
  ASSERT_TRUE(runtime().ListPodSandbox(NewClientContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.items_size(), 0);
}

TEST_F(ResourcesNamespaceTest, PidModesPodContainerTarget) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("pids");
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<pid_t> pause = PausePid(*pod_id);
  ASSERT_TRUE(pause.ok()) << pause.status();
  absl::StatusOr<std::string> pause_ns = NamespaceOf(*pause, "pid");
  ASSERT_TRUE(pause_ns.ok());

  absl::StatusOr<std::string> shared = Sleeper(*pod_id, pod, "shared", v1::POD);
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(NamespaceOfContainer(*shared, "pid"), *pause_ns);

  absl::StatusOr<std::string> own = Sleeper(*pod_id, pod, "own", v1::CONTAINER);
  ASSERT_TRUE(own.ok()) << own.status();
  std::string own_ns = NamespaceOfContainer(*own, "pid");
  EXPECT_NE(own_ns, *pause_ns);
  EXPECT_NE(own_ns, HostNamespace("pid"));
  EXPECT_EQ(Exec(*own, "cat /proc/1/comm"), "sleep");

  absl::StatusOr<std::string> debug = Sleeper(*pod_id, pod, "debug", v1::TARGET, *own);
  ASSERT_TRUE(debug.ok()) << debug.status();
  EXPECT_EQ(NamespaceOfContainer(*debug, "pid"), own_ns);

  absl::StatusOr<std::string> stray = Sleeper(*pod_id, pod, "stray", v1::TARGET, "no-such-id");
  EXPECT_FALSE(stray.ok());
}

TEST_F(ResourcesNamespaceTest, NodeModesShareHostNamespaces) {
  ASSERT_TRUE(Pull().ok());
  v1::PodSandboxConfig pod = PodConfig("node");
  auto* options = pod.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  options->set_pid(v1::NODE);
  options->set_ipc(v1::NODE);
  options->set_network(v1::NODE);
  absl::StatusOr<std::string> pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  absl::StatusOr<std::string> id = Sleeper(*pod_id, pod, "host", v1::NODE);
  ASSERT_TRUE(id.ok()) << id.status();

  for (const char* name : {"pid", "ipc", "net"}) {
    EXPECT_EQ(NamespaceOfContainer(*id, name), HostNamespace(name)) << name;
  }
  EXPECT_NE(NamespaceOfContainer(*id, "mnt"), HostNamespace("mnt"));
}

}  // namespace
}  // namespace berth::e2e
