// Pulls through containerd-style hosts.toml mirrors: a dead mirror falls back to the next host,
// a mirror with override_path serves a registry that is down, and a pull-only mirror is not
// asked to resolve tags. A registry with TLS is trusted through `ca` or `skip_verify`, and
// one that requires a client certificate gets the one hosts.toml names.
#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/image_store_fixture.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "e2e/support/token_server.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

constexpr const char* kRepo = "team/app";

class ImageMirrorTest : public e2e::ImageStoreTest {
 protected:
  void SetUp() override {
    ImageStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto image = e2e::BusyboxImage();
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = *std::move(image);
    ASSERT_TRUE(registry_->PushImage(kRepo, "1", image_).ok());
    auto dead = e2e::FreeLoopbackPort();
    ASSERT_TRUE(dead.ok());
    dead_host_ = absl::StrCat("127.0.0.1:", *dead);
    config_dir_ = JoinPath(temp_, "certs.d");
  }

  void TearDown() override {
    mirrored_.reset();
    ImageStoreTest::TearDown();
  }

  // Writes <config_dir>/<registry>/hosts.toml and opens a store that reads it.
  void Configure(const std::string& registry, const std::string& hosts_toml) {
    ASSERT_TRUE(MakeDirs(JoinPath(config_dir_, registry)).ok());
    ASSERT_TRUE(WriteFile(JoinPath(config_dir_, registry + "/hosts.toml"), hosts_toml).ok());
    ImageStoreOptions options;
    options.root = JoinPath(temp_, "mirrored-root");
    options.registry_config_dir = config_dir_;
    auto store = ImageStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    mirrored_ = *std::move(store);
  }

  e2e::TestImage image_;
  std::string dead_host_;  // a loopback port nothing listens on
  std::string config_dir_;
  std::unique_ptr<ImageStore> mirrored_;
};

TEST_F(ImageMirrorTest, DeadMirrorFallsBackToServer) {
  Configure(registry_->host(), absl::StrCat("server = \"http://", registry_->host(), "\"\n\n",
                                            "[host.\"http://", dead_host_, "\"]\n",
                                            "  capabilities = [\"pull\", \"resolve\"]\n"));
  ASSERT_NE(mirrored_, nullptr);
  auto started = std::chrono::steady_clock::now();
  auto pulled = mirrored_->Pull(absl::StrCat(registry_->host(), "/", kRepo, ":1"));
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
  // A refused connection moves on at once; it is not retried while another host is left.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST_F(ImageMirrorTest, MirrorServesRegistryThatIsDown) {
  // The reference names the dead registry; only its mirror, given with an explicit API root,
  // has the image.
  Configure(dead_host_, absl::StrCat("server = \"http://", dead_host_, "\"\n\n",
                                     "[host.\"http://", registry_->host(), "/v2\"]\n",
                                     "  capabilities = [\"pull\", \"resolve\"]\n",
                                     "  override_path = true\n"));
  ASSERT_NE(mirrored_, nullptr);
  auto pulled = mirrored_->Pull(absl::StrCat(dead_host_, "/", kRepo, ":1"));
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
  ASSERT_EQ(pulled->repo_tags.size(), 1u);
  EXPECT_EQ(pulled->repo_tags[0], absl::StrCat(dead_host_, "/", kRepo, ":1"));
}

TEST_F(ImageMirrorTest, PullOnlyMirrorDoesNotResolveTags) {
  Configure(dead_host_, absl::StrCat("server = \"http://", dead_host_, "\"\n\n",
                                     "[host.\"http://", registry_->host(), "\"]\n",
                                     "  capabilities = [\"pull\"]\n"));
  ASSERT_NE(mirrored_, nullptr);

  // The tag can only be resolved by the server, which is down.
  auto by_tag = mirrored_->Pull(absl::StrCat(dead_host_, "/", kRepo, ":1"));
  ASSERT_FALSE(by_tag.ok());
  EXPECT_EQ(by_tag.status().code(), absl::StatusCode::kUnavailable) << by_tag.status();
  EXPECT_NE(by_tag.status().message().find(dead_host_), absl::string_view::npos)
      << by_tag.status();

  // A digest needs no resolving: the mirror serves it.
  auto by_digest =
      mirrored_->Pull(absl::StrCat(dead_host_, "/", kRepo, "@", image_.manifest.digest));
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  EXPECT_EQ(by_digest->id, image_.config.digest);
}

TEST_F(ImageMirrorTest, BrokenHostsFileFailsThePull) {
  Configure(registry_->host(), "[host.\"http://unterminated\"\n");
  ASSERT_NE(mirrored_, nullptr);
  auto pulled = mirrored_->Pull(absl::StrCat(registry_->host(), "/", kRepo, ":1"));
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), absl::StatusCode::kInvalidArgument) << pulled.status();
  EXPECT_NE(pulled.status().message().find("hosts.toml"), absl::string_view::npos);
}

TEST_F(ImageMirrorTest, TlsServerNeedsCaOrSkipVerify) {
  auto cert = e2e::MakeServerCertificate(temp_, "127.0.0.1");
  ASSERT_TRUE(cert.ok()) << cert.status();
  e2e::TestRegistryOptions tls;
  tls.storage_dir = registry_->storage_dir();
  tls.extra_config = absl::StrCat("  tls:\n    certificate: ", cert->cert_path,
                                  "\n    key: ", cert->key_path, "\n");
  auto started = e2e::TestRegistry::Start(tls);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<e2e::TestRegistry> secure = *std::move(started);
  const std::string server = absl::StrCat("server = \"https://", secure->host(), "\"\n");
  const std::string ref = absl::StrCat(secure->host(), "/", kRepo, ":1");

  // hosts.toml is read at each pull, so the test rewrites it between pulls.
  Configure(secure->host(), server);
  ASSERT_NE(mirrored_, nullptr);
  auto untrusted = mirrored_->Pull(ref);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), absl::StatusCode::kFailedPrecondition)
      << untrusted.status();
  EXPECT_NE(untrusted.status().message().find("certificate"), absl::string_view::npos)
      << untrusted.status();

  std::string hosts_file = JoinPath(config_dir_, secure->host() + "/hosts.toml");
  ASSERT_TRUE(WriteFile(hosts_file, server + "skip_verify = true\n").ok());
  auto skipped = mirrored_->Pull(ref);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(skipped->id, image_.config.digest);

  ASSERT_TRUE(WriteFile(hosts_file, absl::StrCat(server, "ca = \"", cert->cert_path, "\"\n")).ok());
  auto trusted = mirrored_->Pull(ref);
  ASSERT_TRUE(trusted.ok()) << trusted.status();
  EXPECT_EQ(trusted->id, image_.config.digest);
}

TEST_F(ImageMirrorTest, ClientCertificateFromHostsToml) {
  // A CA that signs the client certificate the registry requires, and the server's own.
  const std::string openssl = "/usr/bin/openssl";
  auto path = [this](const char* name) { return JoinPath(temp_, name); };
  ASSERT_TRUE(e2e::RunCommand({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                               "-keyout", path("ca.key"), "-out", path("ca.crt"), "-subj",
                               "/CN=berth-test-client-ca", "-days", "2"})
                  .ok());
  ASSERT_TRUE(e2e::RunCommand({openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                               path("client.key"), "-out", path("client.csr"), "-subj",
                               "/CN=berth-test-client"})
                  .ok());
  ASSERT_TRUE(e2e::RunCommand({openssl, "x509", "-req", "-in", path("client.csr"), "-CA",
                               path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial",
                               "-out", path("client.cert"), "-days", "2"})
                  .ok());
  auto cert = e2e::MakeServerCertificate(temp_, "127.0.0.1");
  ASSERT_TRUE(cert.ok()) << cert.status();

  e2e::TestRegistryOptions tls;
  tls.storage_dir = registry_->storage_dir();
  tls.extra_config = absl::StrCat("  tls:\n    certificate: ", cert->cert_path, "\n    key: ",
                                  cert->key_path, "\n    clientcas:\n      - ", path("ca.crt"),
                                  "\n");
  auto started = e2e::TestRegistry::Start(tls);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<e2e::TestRegistry> secure = *std::move(started);

  // Relative names in hosts.toml are resolved in its folder.
  std::string folder = JoinPath(config_dir_, secure->host());
  ASSERT_TRUE(MakeDirs(folder).ok());
  for (const char* name : {"client.cert", "client.key"}) {
    auto data = ReadFile(path(name));
    ASSERT_TRUE(data.ok());
    ASSERT_TRUE(WriteFile(JoinPath(folder, name), *data).ok());
  }
  const std::string server_and_ca =
      absl::StrCat("server = \"https://", secure->host(), "\"\nca = \"", cert->cert_path, "\"\n");
  Configure(secure->host(), server_and_ca);
  ASSERT_NE(mirrored_, nullptr);
  auto refused = mirrored_->Pull(absl::StrCat(secure->host(), "/", kRepo, ":1"));
  EXPECT_FALSE(refused.ok());

  ASSERT_TRUE(WriteFile(JoinPath(folder, "hosts.toml"),
                        server_and_ca + "client = [[\"client.cert\", \"client.key\"]]\n")
                  .ok());
  auto pulled = mirrored_->Pull(absl::StrCat(secure->host(), "/", kRepo, ":1"));
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
}

}  // namespace
}  // namespace berth::image
