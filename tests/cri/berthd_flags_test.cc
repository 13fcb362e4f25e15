#include "cmd/berthd/flags.h"

#include <gtest/gtest.h>

namespace berth::berthd {
namespace {

TEST(ParseFlagsTest, NoArguments) {
  absl::StatusOr<Flags> flags = ParseFlags({});
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->config_path, "");
  EXPECT_FALSE(flags->root.has_value());
  EXPECT_FALSE(flags->help);
}

TEST(ParseFlagsTest, BothValueForms) {
  absl::StatusOr<Flags> flags =
      ParseFlags({"--config", "/etc/b.toml", "--root=/srv/b", "--state", "/run/b",
                  "--listen=/run/b/s.sock", "--log-level", "debug"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->config_path, "/etc/b.toml");
  EXPECT_EQ(flags->root, "/srv/b");
  EXPECT_EQ(flags->state, "/run/b");
  EXPECT_EQ(flags->listen, "/run/b/s.sock");
  EXPECT_EQ(flags->log_level, "debug");
}

TEST(ParseFlagsTest, HelpAndVersion) {
  EXPECT_TRUE(ParseFlags({"-h"})->help);
  EXPECT_TRUE(ParseFlags({"--help"})->help);
  EXPECT_TRUE(ParseFlags({"--version"})->version);
  EXPECT_NE(Usage().find("--log-level"), std::string::npos);
}

TEST(ParseFlagsTest, Errors) {
  EXPECT_EQ(std::string(ParseFlags({"--rot", "/x"}).status().message()), "unknown flag --rot");
  EXPECT_EQ(std::string(ParseFlags({"--root"}).status().message()), "flag --root needs a value");
  EXPECT_EQ(std::string(ParseFlags({"extra"}).status().message()), "unexpected argument \"extra\"");
  EXPECT_EQ(ParseFlags({"--bogus=1"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ApplyFlagsTest, OverridesOnlyGivenFlags) {
  Config config;
  config.daemon.root = "/from/file";
  config.daemon.log_level = "warn";
  absl::StatusOr<Flags> flags = ParseFlags({"--state", "/run/x"});
  ASSERT_TRUE(flags.ok());
  ApplyFlags(*flags, config);
  EXPECT_EQ(config.daemon.root, "/from/file");
  EXPECT_EQ(config.daemon.state, "/run/x");
  EXPECT_EQ(config.daemon.log_level, "warn");
}

TEST(ApplyFlagsTest, RegistryConfigDir) {
  absl::StatusOr<Flags> flags = ParseFlags({"--registry-config-dir", "/srv/certs.d"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  Config config;
  ApplyFlags(*flags, config);
  EXPECT_EQ(config.image.registry_config_dir, "/srv/certs.d");
}

TEST(ApplyFlagsTest, CniFoldersReplaceTheConfiguredOnes) {
  absl::StatusOr<Flags> flags = ParseFlags(
      {"--cni-conf-dir", "/srv/net.d", "--cni-bin-dir", "/srv/cni", "--cni-bin-dir=/usr/lib/cni"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  Config config;
  config.network.bin_dirs = {"/from/file"};
  ApplyFlags(*flags, config);
  EXPECT_EQ(config.network.conf_dir, "/srv/net.d");
  EXPECT_EQ(config.network.bin_dirs, (std::vector<std::string>{"/srv/cni", "/usr/lib/cni"}));
}

}  // namespace
}  // namespace berth::berthd
