#include "runtime/spec.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

Spec FullSpec() {
  Spec spec = BaseSpec();
  spec.process.args = {"sh", "-c", "echo hello"};
  spec.process.user = {1000, 1000, {10, 20}};
  spec.process.cwd = "/work";
  spec.process.rlimits = {{"RLIMIT_NOFILE", 1024, 512}};
  spec.process.no_new_privileges = true;
  spec.process.oom_score_adj = -100;
  spec.process.capabilities->ambient = {"CAP_NET_BIND_SERVICE"};
  spec.root = {"rootfs", true};
  spec.hostname = "box";
  spec.mounts.push_back({"/data", "bind", "/srv/data", {"rbind", "ro"}});
  spec.linux.namespaces = {{"pid", ""}, {"network", "/run/netns/pod"}, {"mount", ""}};
  spec.linux.cgroups_path = "/berth/pod1/ctr1";
  spec.linux.resources.memory.limit = 64 << 20;
  spec.linux.resources.cpu.shares = 512;
  spec.linux.resources.cpu.quota = 50000;
  spec.linux.resources.cpu.period = 100000;
  spec.linux.resources.pids.limit = 100;
  spec.linux.sysctl = {{"net.ipv4.ip_forward", "1"}};
  spec.annotations = {{"io.kubernetes.pod.name", "web"}};
  return spec;
}

TEST(SpecTest, RoundTripKeepsEveryField) {
  Spec spec = FullSpec();
  nlohmann::json json = SpecToJson(spec);
  absl::StatusOr<Spec> parsed = SpecFromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(SpecToJson(*parsed), json);

  EXPECT_EQ(parsed->process.user.additional_gids, (std::vector<uint32_t>{10, 20}));
  EXPECT_EQ(parsed->process.oom_score_adj, -100);
  EXPECT_EQ(parsed->process.capabilities->ambient,
            (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
  EXPECT_EQ(parsed->linux.namespaces[1].path, "/run/netns/pod");
  EXPECT_EQ(parsed->linux.resources.cpu.quota, 50000);
  EXPECT_EQ(parsed->linux.resources.pids.limit, 100);
  EXPECT_FALSE(parsed->linux.resources.cpu.period == std::nullopt);
  EXPECT_EQ(parsed->mounts.back().options, (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_TRUE(parsed->root.readonly);
}

TEST(SpecTest, UsesOciMemberNames) {
  nlohmann::json json = SpecToJson(FullSpec());
  EXPECT_EQ(json["process"]["user"]["additionalGids"], nlohmann::json({10, 20}));
  EXPECT_EQ(json["process"]["noNewPrivileges"], true);
  EXPECT_EQ(json["process"]["oomScoreAdj"], -100);
  EXPECT_EQ(json["process"]["rlimits"][0]["type"], "RLIMIT_NOFILE");
  EXPECT_EQ(json["linux"]["cgroupsPath"], "/berth/pod1/ctr1");
  EXPECT_EQ(json["linux"]["resources"]["memory"]["limit"], 64 << 20);
  EXPECT_EQ(json["linux"]["maskedPaths"][0], "/proc/acpi");
  EXPECT_EQ(json["linux"]["devices"][0]["fileMode"], 0666);
  EXPECT_EQ(json["linux"]["namespaces"][0], nlohmann::json({{"type", "pid"}}));
}

TEST(SpecTest, ParsesAMinimalDocument) {
  auto parsed = SpecFromJson(nlohmann::json::parse(R"({
    "ociVersion": "1.0.2",
    "process": {"args": ["/pause"], "user": {"uid": 0, "gid": 0}},
    "root": {"path": "/r"},
    "linux": {"namespaces": [{"type": "mount"}]}
  })"));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->process.cwd, "/");
  EXPECT_FALSE(parsed->process.capabilities.has_value());
  EXPECT_FALSE(parsed->process.oom_score_adj.has_value());
  EXPECT_FALSE(parsed->linux.resources.memory.limit.has_value());
  EXPECT_TRUE(ValidateSpec(*parsed).ok());
}

TEST(SpecTest, BadMemberIsNamed) {
  auto parsed = SpecFromJson(nlohmann::json::parse(R"({"process": {"user": {"uid": "root"}}})"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("process.user.uid"), std::string::npos)
      << parsed.status();

  auto mounts = SpecFromJson(nlohmann::json::parse(R"({"mounts": [{"destination": 3}]})"));
  ASSERT_FALSE(mounts.ok());
  EXPECT_NE(mounts.status().message().find("mounts[0].destination"), std::string::npos);

  EXPECT_FALSE(SpecFromJson(nlohmann::json::parse("[1]")).ok());
}

TEST(SpecTest, ValidateRejectsUnsupported) {
  Spec spec = FullSpec();
  ASSERT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec);

  // A seccomp filter is supported, but a malformed one is named by its member.
  Spec seccomp = spec;
  seccomp.linux.seccomp = Seccomp{};
  EXPECT_EQ(ValidateSpec(seccomp).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ValidateSpec(seccomp).message().find("linux.seccomp.defaultAction"),
            std::string::npos);
  seccomp.linux.seccomp->default_action = "SCMP_ACT_ERRNO";
  EXPECT_TRUE(ValidateSpec(seccomp).ok()) << ValidateSpec(seccomp);

  Spec terminal = spec;
  terminal.process.terminal = true;
  EXPECT_EQ(ValidateSpec(terminal).code(), absl::StatusCode::kUnimplemented);

  Spec no_mount_ns = spec;
  no_mount_ns.linux.namespaces = {{"pid", ""}};
  EXPECT_EQ(ValidateSpec(no_mount_ns).code(), absl::StatusCode::kInvalidArgument);

  Spec relative = spec;
  relative.mounts.push_back({"data", "bind", "/x", {"bind"}});
  EXPECT_EQ(ValidateSpec(relative).code(), absl::StatusCode::kInvalidArgument);

  Spec no_args = spec;
  no_args.process.args.clear();
  EXPECT_EQ(ValidateSpec(no_args).code(), absl::StatusCode::kInvalidArgument);

  Spec host_sysctl = spec;
  host_sysctl.linux.sysctl = {{"kernel.panic", "1"}};
  EXPECT_EQ(ValidateSpec(host_sysctl).code(), absl::StatusCode::kInvalidArgument);
  Spec host_net_sysctl = spec;
  host_net_sysctl.linux.namespaces = {{"mount", ""}};
  EXPECT_EQ(ValidateSpec(host_net_sysctl).code(), absl::StatusCode::kInvalidArgument);
  Spec ipc_sysctl = spec;
  ipc_sysctl.linux.sysctl = {{"kernel.shmmax", "1000000"}};
  ipc_sysctl.linux.namespaces.push_back({"ipc", "/proc/1/ns/ipc"});
  EXPECT_TRUE(ValidateSpec(ipc_sysctl).ok()) << ValidateSpec(ipc_sysctl);

  Spec twice = spec;
  twice.linux.namespaces.push_back({"pid", ""});
  EXPECT_EQ(ValidateSpec(twice).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SpecTest, DefaultMountsInOrder) {
  std::vector<Mount> mounts = DefaultMounts();
  std::vector<std::string> destinations;
  for (const Mount& mount : mounts) destinations.push_back(mount.destination);
  EXPECT_EQ(destinations, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm",
                                                    "/dev/mqueue", "/sys", "/sys/fs/cgroup"}));
  EXPECT_EQ(DefaultDevices().size(), 6u);
}

}  // namespace
}  // namespace berth::runtime
