#include "pod/spec_builder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "base/file.h"
#include "pod/signals.h"

namespace berth::pod {
namespace {

SandboxRecord MakeSandbox() {
  SandboxRecord sandbox;
  sandbox.id = "sb1";
  sandbox.config.mutable_metadata()->set_name("web");
  sandbox.config.set_hostname("web-0");
  sandbox.netns_path = "/run/berth/netns/sb1";
  sandbox.cgroup_parent = "/kubepods/pod-u1";
  sandbox.pause_pid = 4242;
  return sandbox;
}

const runtime::Namespace* Find(const runtime::Spec& spec, const std::string& type) {
  return runtime::FindNamespace(spec, type);
}

const runtime::Mount* FindMount(const runtime::Spec& spec, const std::string& destination) {
  for (const auto& mount : spec.mounts) {
    if (mount.destination == destination) return &mount;
  }
  return nullptr;
}

TEST(BuildPauseSpec, NamespacesCgroupAndPauseMount) {
  runtime::Spec spec = BuildPauseSpec(MakeSandbox(), "/var/lib/berth/sandboxes/sb1/rootfs",
                                      "/usr/bin/berth-pause");
  EXPECT_EQ(spec.process.args, std::vector<std::string>{"/pause"});
  EXPECT_EQ(spec.hostname, "web-0");
  EXPECT_EQ(spec.linux.cgroups_path, "/kubepods/pod-u1/sb1");
  ASSERT_NE(Find(spec, "network"), nullptr);
  EXPECT_EQ(Find(spec, "network")->path, "/run/berth/netns/sb1");
  ASSERT_NE(Find(spec, "ipc"), nullptr);
  EXPECT_EQ(Find(spec, "ipc")->path, "");
  ASSERT_NE(Find(spec, "uts"), nullptr);
  EXPECT_EQ(Find(spec, "uts")->path, "");
  const runtime::Mount* pause = FindMount(spec, "/pause");
  ASSERT_NE(pause, nullptr);
  EXPECT_EQ(pause->source, "/usr/bin/berth-pause");
  EXPECT_NE(std::find(pause->options.begin(), pause->options.end(), "ro"), pause->options.end());
}

TEST(BuildPauseSpec, HostNetworkHasNoNetworkNamespace) {
  SandboxRecord sandbox = MakeSandbox();
  sandbox.netns_path.clear();
  runtime::Spec spec = BuildPauseSpec(sandbox, "/rootfs", "/pause");
  EXPECT_EQ(Find(spec, "network"), nullptr);
}

class ContainerSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.mutable_metadata()->set_name("app");
    config_.mutable_image()->set_image("busybox");
    image_.entrypoint = {"/entry"};
    image_.cmd = {"serve"};
    image_.env = {"PATH=/bin", "MODE=dev"};
    paths_ = {"/sb/resolv.conf", "/sb/hostname", "/sb/hosts"};
  }

  absl::StatusOr<runtime::Spec> Build() {
    return BuildContainerSpec("c1", config_, MakeSandbox(), paths_, image_, "/ctr/rootfs");
  }

  ::runtime::v1::ContainerConfig config_;
  ImageDefaults image_;
  SandboxPaths paths_;
};

TEST_F(ContainerSpecTest, JoinsPauseNamespaces) {
  config_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      ::runtime::v1::CONTAINER);
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(Find(*spec, "network")->path, "/run/berth/netns/sb1");
  EXPECT_EQ(Find(*spec, "ipc")->path, "/proc/4242/ns/ipc");
  EXPECT_EQ(Find(*spec, "uts")->path, "/proc/4242/ns/uts");
  ASSERT_NE(Find(*spec, "pid"), nullptr);
  EXPECT_EQ(Find(*spec, "pid")->path, "");
  ASSERT_NE(Find(*spec, "mount"), nullptr);
  EXPECT_EQ(Find(*spec, "mount")->path, "");
  EXPECT_EQ(spec->linux.cgroups_path, "/kubepods/pod-u1/c1");
  EXPECT_EQ(spec->root.path, "/ctr/rootfs");
  EXPECT_TRUE(spec->hostname.empty());
}

// POD is the zero value of NamespaceMode, so a config without a pid mode shares the pause's.
TEST_F(ContainerSpecTest, PodPidModeJoinsPause) {
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(Find(*spec, "pid")->path, "/proc/4242/ns/pid");
}

TEST_F(ContainerSpecTest, ProcessMergesImageAndConfig) {
  config_.add_args("check");
  auto* env = config_.add_envs();
  env->set_key("MODE");
  env->set_value("prod");
  config_.set_working_dir("/work");
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->process.args, (std::vector<std::string>{"/entry", "check"}));
  EXPECT_EQ(spec->process.env, (std::vector<std::string>{"PATH=/bin", "MODE=prod"}));
  EXPECT_EQ(spec->process.cwd, "/work");
}

TEST_F(ContainerSpecTest, PodFilesAndCriMountsAreBound) {
  auto* mount = config_.add_mounts();
  mount->set_container_path("/data");
  mount->set_host_path("/tmp");
  mount->set_readonly(true);
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_NE(FindMount(*spec, "/etc/resolv.conf"), nullptr);
  EXPECT_EQ(FindMount(*spec, "/etc/resolv.conf")->source, "/sb/resolv.conf");
  ASSERT_NE(FindMount(*spec, "/etc/hosts"), nullptr);
  ASSERT_NE(FindMount(*spec, "/etc/hostname"), nullptr);
  const runtime::Mount* data = FindMount(*spec, "/data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->type, "bind");
  EXPECT_EQ(data->source, "/tmp");
  EXPECT_NE(std::find(data->options.begin(), data->options.end(), "ro"), data->options.end());
}

TEST_F(ContainerSpecTest, RelativeMountPathIsRejectedWithValue) {
  auto* mount = config_.add_mounts();
  mount->set_container_path("data");
  mount->set_host_path("/tmp");
  auto spec = Build();
  EXPECT_TRUE(absl::IsInvalidArgument(spec.status()));
  EXPECT_NE(spec.status().message().find("\"data\""), absl::string_view::npos) << spec.status();
}

TEST_F(ContainerSpecTest, MissingHostPathIsCreated) {
  char pattern[] = "/tmp/berth-hostpath-test-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  std::string missing = std::string(pattern) + "/a/b";
  auto* mount = config_.add_mounts();
  mount->set_container_path("/data");
  mount->set_host_path(missing);
  auto spec = Build();
  EXPECT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(PathExists(missing));
  EXPECT_TRUE(RemoveAll(pattern).ok());
}

TEST_F(ContainerSpecTest, PodSysctlsReachContainer) {
  SandboxRecord sandbox = MakeSandbox();
  (*sandbox.config.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] =
      "123";
  auto spec = BuildContainerSpec("c1", config_, sandbox, paths_, image_, "/ctr/rootfs");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->linux.sysctl.at("net.ipv4.ip_unprivileged_port_start"), "123");
  runtime::Spec pause = BuildPauseSpec(sandbox, "/rootfs", "/pause");
  EXPECT_EQ(pause.linux.sysctl.at("net.ipv4.ip_unprivileged_port_start"), "123");
}

TEST_F(ContainerSpecTest, HostNetworkSharesHostUts) {
  SandboxRecord sandbox = MakeSandbox();
  sandbox.netns_path.clear();
  auto spec = BuildContainerSpec("c1", config_, sandbox, paths_, image_, "/ctr/rootfs");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(Find(*spec, "network"), nullptr);
  EXPECT_EQ(Find(*spec, "uts"), nullptr);
  runtime::Spec pause = BuildPauseSpec(sandbox, "/rootfs", "/pause");
  EXPECT_EQ(Find(pause, "uts"), nullptr);
  EXPECT_TRUE(pause.hostname.empty());
}

TEST_F(ContainerSpecTest, DropAllThenAddOneCapability) {
  auto* caps = config_.mutable_linux()->mutable_security_context()->mutable_capabilities();
  caps->add_drop_capabilities("ALL");
  caps->add_add_capabilities("net_bind_service");
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->process.capabilities.has_value());
  EXPECT_EQ(spec->process.capabilities->bounding,
            std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_EQ(spec->process.capabilities->effective,
            std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
}

TEST(BuildRootfsOverlay, LowerDirsTopFirst) {
  runtime::Mount mount = BuildRootfsOverlay({"/s/1/fs", "/s/2/fs"}, "/c/upper", "/c/work");
  EXPECT_EQ(mount.type, "overlay");
  EXPECT_EQ(mount.options, (std::vector<std::string>{"lowerdir=/s/2/fs:/s/1/fs",
                                                     "upperdir=/c/upper", "workdir=/c/work"}));
}

class ResolveUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-user-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(MakeDirs(dir_ + "/etc").ok());
    ASSERT_TRUE(WriteFile(dir_ + "/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n").ok());
    ASSERT_TRUE(WriteFile(dir_ + "/etc/group", "root:x:0:\nstaff:x:50:\n").ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(ResolveUserTest, NumbersNamesAndGroups) {
  auto numeric = ResolveUser("1000:1000", {dir_});
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->uid, 1000u);
  EXPECT_EQ(numeric->gid, 1000u);

  auto named = ResolveUser("app", {dir_});
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->uid, 1000u);
  EXPECT_EQ(named->gid, 1001u);

  auto with_group = ResolveUser("app:staff", {dir_});
  ASSERT_TRUE(with_group.ok()) << with_group.status();
  EXPECT_EQ(with_group->gid, 50u);

  auto numeric_with_entry = ResolveUser("1000", {dir_});
  ASSERT_TRUE(numeric_with_entry.ok());
  EXPECT_EQ(numeric_with_entry->gid, 1001u);

  auto numeric_without_entry = ResolveUser("4242", {dir_});
  ASSERT_TRUE(numeric_without_entry.ok());
  EXPECT_EQ(numeric_without_entry->gid, 0u);

  auto unknown = ResolveUser("nobody", {dir_});
  EXPECT_TRUE(absl::IsNotFound(unknown.status()));
  EXPECT_NE(unknown.status().message().find("nobody"), absl::string_view::npos);
}

TEST(ParseSignal, NamesAndNumbers) {
  EXPECT_EQ(*ParseSignal("SIGTERM"), 15);
  EXPECT_EQ(*ParseSignal("term"), 15);
  EXPECT_EQ(*ParseSignal("9"), 9);
  EXPECT_EQ(*ParseSignal("SIGQUIT"), 3);
  EXPECT_TRUE(absl::IsInvalidArgument(ParseSignal("SIGNOPE").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseSignal("999").status()));
}

}  // namespace
}  // namespace berth::pod
