#include "cmd/berthd/config.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "base/file.h"

namespace berth::berthd {
namespace {

TEST(ParseConfigTest, EmptyTextGivesDefaults) {
  absl::StatusOr<Config> config = ParseConfig("", "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->daemon.root, "/var/lib/berth");
  EXPECT_EQ(config->daemon.state, "/run/berth");
  EXPECT_EQ(config->daemon.listen, "/run/berth/berth.sock");
  EXPECT_EQ(config->daemon.log_level, "info");
  EXPECT_TRUE(config->image.insecure_registries.empty());
  EXPECT_EQ(config->runtime.shim_path, "");
  EXPECT_EQ(config->network.conf_dir, "/etc/cni/net.d");
  EXPECT_EQ(config->network.bin_dirs, (std::vector<std::string>{"/opt/cni/bin", "/usr/lib/cni"}));
}

TEST(ParseConfigTest, ReadsEverySection) {
  absl::StatusOr<Config> config = ParseConfig(R"(
[daemon]
root = "/srv/berth"
state = "/run/b"
listen = "/run/b/b.sock"
log_level = "debug"

[image]
insecure_registries = ["localhost:5000", "registry.test"]

[runtime]
shim_path = "/opt/berth/berth-shim"
pause_path = "/opt/berth/berth-pause"

[network]
conf_dir = "/etc/berth/cni"
bin_dirs = ["/opt/cni/bin"]
)",
                                              "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->daemon.root, "/srv/berth");
  EXPECT_EQ(config->daemon.state, "/run/b");
  EXPECT_EQ(config->daemon.listen, "/run/b/b.sock");
  EXPECT_EQ(config->daemon.log_level, "debug");
  EXPECT_EQ(config->image.insecure_registries,
            (std::vector<std::string>{"localhost:5000", "registry.test"}));
  EXPECT_EQ(config->runtime.shim_path, "/opt/berth/berth-shim");
  EXPECT_EQ(config->runtime.pause_path, "/opt/berth/berth-pause");
  EXPECT_EQ(config->network.conf_dir, "/etc/berth/cni");
  EXPECT_EQ(config->network.bin_dirs, (std::vector<std::string>{"/opt/cni/bin"}));
  EXPECT_TRUE(ValidateConfig(*config).ok());
}

TEST(ParseConfigTest, ReadsSandboxImage) {
  absl::StatusOr<Config> config = ParseConfig("", "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->image.sandbox_image, "");

  config = ParseConfig("[image]\nsandbox_image = \"registry.k8s.io/pause:3.9\"\n", "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->image.sandbox_image, "registry.k8s.io/pause:3.9");
}

TEST(ParseConfigTest, UnknownKeyIsNamed) {
  absl::StatusOr<Config> config = ParseConfig("[daemon]\nrot = \"/x\"\n", "/etc/berth/berth.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()),
            "unknown key daemon.rot in /etc/berth/berth.toml");
}

TEST(ParseConfigTest, UnknownSectionIsNamed) {
  absl::StatusOr<Config> config = ParseConfig("[plugins]\nx = 1\n", "b.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()), "unknown section or key plugins in b.toml");

  config = ParseConfig("root = \"/x\"\n", "b.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()), "unknown section or key root in b.toml");
}

TEST(ParseConfigTest, BadTypesNameKeyAndValue) {
  absl::StatusOr<Config> config = ParseConfig("[daemon]\nroot = 42\n", "b.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(config.status().message()),
            "daemon.root in b.toml must be a string, got integer 42");

  config = ParseConfig("[image]\ninsecure_registries = \"localhost:5000\"\n", "b.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            "image.insecure_registries in b.toml must be an array of strings, got string "
            "'localhost:5000'");

  config = ParseConfig("[network]\nbin_dirs = [\"/a\", true]\n", "b.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            "network.bin_dirs[1] in b.toml must be a string, got boolean true");

  config = ParseConfig("daemon = 3\n", "b.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            "daemon in b.toml must be a table, got integer 3");
}

TEST(ParseConfigTest, SyntaxErrorGivesLine) {
  absl::StatusOr<Config> config = ParseConfig("[daemon]\nroot = \n", "b.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("b.toml at line 2"), std::string::npos)
      << config.status();
}

TEST(ValidateConfigTest, DefaultsWithBinaryPathsAreValid) {
  Config config;
  ResolveBinaryPaths("/usr/local/bin", config);
  EXPECT_EQ(config.runtime.shim_path, "/usr/local/bin/berth-shim");
  EXPECT_EQ(config.runtime.pause_path, "/usr/local/bin/berth-pause");
  EXPECT_TRUE(ValidateConfig(config).ok());
}

TEST(ValidateConfigTest, ResolveKeepsGivenPaths) {
  Config config;
  config.runtime.shim_path = "/opt/shim";
  ResolveBinaryPaths("/usr/local/bin", config);
  EXPECT_EQ(config.runtime.shim_path, "/opt/shim");
}

TEST(ValidateConfigTest, RelativePathIsNamed) {
  Config config;
  ResolveBinaryPaths("/bin", config);
  config.daemon.state = "run/berth";
  absl::Status status = ValidateConfig(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "daemon.state must be an absolute path, got \"run/berth\"");

  config.daemon.state = "/run/berth";
  config.network.bin_dirs = {"/opt/cni/bin", "cni"};
  EXPECT_EQ(std::string(ValidateConfig(config).message()),
            "network.bin_dirs must be an absolute path, got \"cni\"");
}

TEST(ValidateConfigTest, LogLevelMustBeKnown) {
  Config config;
  ResolveBinaryPaths("/bin", config);
  config.daemon.log_level = "verbose";
  EXPECT_EQ(std::string(ValidateConfig(config).message()),
            "daemon.log_level must be one of trace, debug, info, warn, error, got \"verbose\"");
}

TEST(ValidateConfigTest, SocketPathMustFit) {
  Config config;
  ResolveBinaryPaths("/bin", config);
  config.daemon.listen = "/" + std::string(120, 's');
  EXPECT_EQ(ValidateConfig(config).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateConfigTest, Registries) {
  Config config;
  ResolveBinaryPaths("/bin", config);
  for (const char* good : {"localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000",
                           "[fd00::1]", "registry.example.test"}) {
    config.image.insecure_registries = {good};
    EXPECT_TRUE(ValidateConfig(config).ok()) << good;
  }
  for (const char* bad : {"", "http://localhost:5000", "localhost:", "localhost:0",
                          "localhost:70000", "host/path", "[::1", "[zz]:5", "a b"}) {
    config.image.insecure_registries = {bad};
    absl::Status status = ValidateConfig(config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("image.insecure_registries entry"), std::string::npos)
        << status;
  }
}

TEST(LoadConfigFileTest, MissingFile) {
  std::string path = "/nonexistent-berth-test/berth.toml";
  absl::StatusOr<Config> config = LoadConfigFile(path, /*must_exist=*/false);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->daemon.root, "/var/lib/berth");

  config = LoadConfigFile(path, /*must_exist=*/true);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(config.status().message().find(path), std::string::npos);
}

TEST(LoadConfigFileTest, ReadsFile) {
  char dir_template[] = "/tmp/berth-config-test.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string path = std::string(dir_template) + "/berth.toml";
  ASSERT_TRUE(WriteFile(path, "[daemon]\nlog_level = \"warn\"\n").ok());
  absl::StatusOr<Config> config = LoadConfigFile(path, true);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->daemon.log_level, "warn");
  EXPECT_TRUE(RemoveAll(dir_template).ok());
}

TEST(ParseConfigTest, RegistrySettings) {
  absl::StatusOr<Config> defaults = ParseConfig("", "test.toml");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->image.registry_config_dir, "/etc/berth/certs.d");
  EXPECT_EQ(defaults->image.pull_progress_timeout_seconds, 300);

  absl::StatusOr<Config> config = ParseConfig(
      "[image]\nregistry_config_dir = \"/srv/certs.d\"\npull_progress_timeout_seconds = 30\n",
      "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->image.registry_config_dir, "/srv/certs.d");
  EXPECT_EQ(config->image.pull_progress_timeout_seconds, 30);
  ResolveBinaryPaths("/usr/local/bin", *config);
  EXPECT_TRUE(ValidateConfig(*config).ok()) << ValidateConfig(*config);

  Config relative = *config;
  relative.image.registry_config_dir = "certs.d";
  absl::Status status = ValidateConfig(relative);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("image.registry_config_dir"), absl::string_view::npos);

  Config zero = *config;
  zero.image.pull_progress_timeout_seconds = 0;
  status = ValidateConfig(zero);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("image.pull_progress_timeout_seconds"),
            absl::string_view::npos);
}

TEST(ParseConfigTest, CniPluginTimeout) {
  absl::StatusOr<Config> config =
      ParseConfig("[network]\nplugin_timeout_seconds = 5\n", "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->network.plugin_timeout_seconds, 5);
  ResolveBinaryPaths("/usr/local/bin", *config);
  EXPECT_TRUE(ValidateConfig(*config).ok());

  config->network.plugin_timeout_seconds = 0;
  EXPECT_EQ(std::string(ValidateConfig(*config).message()),
            "network.plugin_timeout_seconds must be in 1..3600, got 0");
  EXPECT_FALSE(ParseConfig("[network]\nplugin_timeout_seconds = \"5s\"\n", "test.toml").ok());
}

}  // namespace
}  // namespace berth::berthd
