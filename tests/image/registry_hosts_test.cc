#include <gtest/gtest.h>

#include "base/file.h"
#include "image/hosts_config.h"
#include "temp_dir.h"

namespace berth::image {
namespace {

constexpr const char* kPath = "/etc/berth/certs.d/docker.io/hosts.toml";
constexpr const char* kHub = "https://registry-1.docker.io";

HostsConfig Parse(const std::string& text) {
  auto config = ParseHostsToml(text, kPath, kHub);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : HostsConfig{};
}

TEST(ParseHostsToml, KindMirrorThenServer) {
  HostsConfig config = Parse(R"(
server = "https://registry-1.docker.io"

[host."http://kind-registry:5000"]
  capabilities = ["pull", "resolve"]
)");
  ASSERT_EQ(config.hosts.size(), 2u);
  EXPECT_EQ(config.hosts[0].origin, "http://kind-registry:5000");
  EXPECT_EQ(config.hosts[0].BaseUrl(), "http://kind-registry:5000/v2");
  EXPECT_TRUE(config.hosts[0].pull);
  EXPECT_TRUE(config.hosts[0].resolve);
  EXPECT_FALSE(config.hosts[0].is_server);
  EXPECT_EQ(config.hosts[1].BaseUrl(), "https://registry-1.docker.io/v2");
  EXPECT_TRUE(config.hosts[1].is_server);
  EXPECT_EQ(config.source, kPath);
}

TEST(ParseHostsToml, MirrorsKeepFileOrder) {
  HostsConfig config = Parse(R"(
[host."https://zeta.example.com"]
[host."https://alpha.example.com"]
  capabilities = ["pull"]
[host."https://mid.example.com:8443"]
)");
  ASSERT_EQ(config.hosts.size(), 4u);
  EXPECT_EQ(config.hosts[0].origin, "https://zeta.example.com");
  EXPECT_EQ(config.hosts[1].origin, "https://alpha.example.com");
  EXPECT_TRUE(config.hosts[1].pull);
  EXPECT_FALSE(config.hosts[1].resolve);
  EXPECT_EQ(config.hosts[2].origin, "https://mid.example.com:8443");
  // No server key: the registry itself comes last.
  EXPECT_EQ(config.hosts[3].origin, kHub);
}

TEST(ParseHostsToml, PathsAndOverridePath) {
  HostsConfig config = Parse(R"(
[host."https://proxy.example.com/cache/v2/docker"]
  override_path = true
[host."https://other.example.com/sub/"]
[host."https://third.example.com/v2"]
[host."noscheme.example.com"]
)");
  ASSERT_EQ(config.hosts.size(), 5u);
  EXPECT_EQ(config.hosts[0].BaseUrl(), "https://proxy.example.com/cache/v2/docker");
  EXPECT_EQ(config.hosts[1].BaseUrl(), "https://other.example.com/sub/v2");
  EXPECT_EQ(config.hosts[2].BaseUrl(), "https://third.example.com/v2");
  EXPECT_EQ(config.hosts[3].BaseUrl(), "https://noscheme.example.com/v2");
}

TEST(ParseHostsToml, TlsAndHeaders) {
  HostsConfig config = Parse(R"(
server = "https://registry.example.com"
ca = "server-ca.pem"
skip_verify = false

[host."https://mirror.example.com"]
  ca = ["/etc/certs/a.pem", "b.pem"]
  skip_verify = true
  client = [["client.cert", "/etc/certs/client.key"], "other.pem"]
  dial_timeout = "3s"
  [host."https://mirror.example.com".header]
    x-mirror = "berth"
    x-list = ["a", "b"]
)");
  ASSERT_EQ(config.hosts.size(), 2u);
  const RegistryEndpoint& mirror = config.hosts[0];
  EXPECT_TRUE(mirror.tls.skip_verify);
  EXPECT_EQ(mirror.tls.ca_files,
            (std::vector<std::string>{"/etc/certs/a.pem", "/etc/berth/certs.d/docker.io/b.pem"}));
  EXPECT_EQ(mirror.tls.client_cert_file, "/etc/berth/certs.d/docker.io/client.cert");
  EXPECT_EQ(mirror.tls.client_key_file, "/etc/certs/client.key");
  EXPECT_EQ(mirror.headers,
            (std::vector<std::string>{"x-list: a", "x-list: b", "x-mirror: berth"}));

  const RegistryEndpoint& server = config.hosts[1];
  EXPECT_EQ(server.origin, "https://registry.example.com");
  EXPECT_FALSE(server.tls.skip_verify);
  EXPECT_EQ(server.tls.ca_files,
            (std::vector<std::string>{"/etc/berth/certs.d/docker.io/server-ca.pem"}));
}

TEST(ParseHostsToml, ClientAsSingleFile) {
  HostsConfig config = Parse(R"(client = "/etc/certs/both.pem")");
  ASSERT_EQ(config.hosts.size(), 1u);
  EXPECT_EQ(config.hosts[0].tls.client_cert_file, "/etc/certs/both.pem");
  EXPECT_EQ(config.hosts[0].tls.client_key_file, "");
}

TEST(ParseHostsToml, ErrorsNameFileAndKey) {
  auto bad_type = ParseHostsToml("[host.\"https://m\"]\nskip_verify = \"yes\"\n", kPath, kHub);
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_type.status().message().find(kPath), std::string::npos);
  EXPECT_NE(bad_type.status().message().find("skip_verify"), std::string::npos);

  auto syntax = ParseHostsToml("server = \n", kPath, kHub);
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("line 1"), std::string::npos) << syntax.status();

  auto scheme = ParseHostsToml("server = \"ftp://x\"\n", kPath, kHub);
  ASSERT_FALSE(scheme.ok());
  EXPECT_NE(scheme.status().message().find("ftp://x"), std::string::npos);

  auto caps = ParseHostsToml("capabilities = [1]\n", kPath, kHub);
  EXPECT_FALSE(caps.ok());
}

TEST(LoadHostsConfig, OwnFolderThenDefaultThenNothing) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_TRUE(MakeDirs(dir.Sub("registry.example.com:5000")).ok());
  ASSERT_TRUE(WriteFile(dir.Sub("registry.example.com:5000/hosts.toml"),
                        "[host.\"http://127.0.0.1:1\"]\n")
                  .ok());

  auto own = LoadHostsConfig(dir.path(), "registry.example.com:5000",
                             "https://registry.example.com:5000");
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_EQ(own->hosts.size(), 2u);
  EXPECT_EQ(own->hosts[0].origin, "http://127.0.0.1:1");
  EXPECT_EQ(own->hosts[1].origin, "https://registry.example.com:5000");

  auto none = LoadHostsConfig(dir.path(), "quay.io", "https://quay.io");
  ASSERT_TRUE(none.ok()) << none.status();
  ASSERT_EQ(none->hosts.size(), 1u);
  EXPECT_EQ(none->source, "");

  ASSERT_TRUE(MakeDirs(dir.Sub("_default")).ok());
  ASSERT_TRUE(WriteFile(dir.Sub("_default/hosts.toml"), "[host.\"https://all.example\"]\n").ok());
  auto fallback = LoadHostsConfig(dir.path(), "quay.io", "https://quay.io");
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  ASSERT_EQ(fallback->hosts.size(), 2u);
  EXPECT_EQ(fallback->hosts[0].origin, "https://all.example");
  EXPECT_EQ(fallback->hosts[1].origin, "https://quay.io");

  auto unset = LoadHostsConfig("", "quay.io", "https://quay.io");
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(unset->hosts.size(), 1u);

  EXPECT_FALSE(LoadHostsConfig(dir.path(), "../etc", "https://x").ok());
}

TEST(LoadHostsConfig, OlderCertFolderLayout) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.Sub("reg.example")).ok());
  for (const char* name : {"ca.crt", "client.cert", "client.key", "lonely.cert"}) {
    ASSERT_TRUE(WriteFile(dir.Sub(std::string("reg.example/") + name), "x").ok());
  }
  auto config = LoadHostsConfig(dir.path(), "reg.example", "https://reg.example");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->hosts.size(), 1u);
  EXPECT_EQ(config->hosts[0].tls.ca_files,
            (std::vector<std::string>{dir.Sub("reg.example/ca.crt")}));
  EXPECT_EQ(config->hosts[0].tls.client_cert_file, dir.Sub("reg.example/client.cert"));
  EXPECT_EQ(config->hosts[0].tls.client_key_file, dir.Sub("reg.example/client.key"));
}

TEST(LoadHostsConfig, BrokenFileIsAnError) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.Sub("reg.example")).ok());
  ASSERT_TRUE(WriteFile(dir.Sub("reg.example/hosts.toml"), "[host.\n").ok());
  EXPECT_FALSE(LoadHostsConfig(dir.path(), "reg.example", "https://reg.example").ok());
}

}  // namespace
}  // namespace berth::image
