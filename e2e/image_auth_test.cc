// Pulls with credentials from docker-registry on loopback: htpasswd Basic auth, and token auth
// with a token server of the test's own (e2e/support/token_server.py) in every credential form
// CRI carries. A proxy redirects blob requests to another host name, and the redirected
// requests must arrive without the credentials. Through berthd, CRI's AuthConfig reaches the
// registry, --registry-config-dir picks the mirrors, and a client deadline stops a download.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/daemon.h"
#include "e2e/support/image_store_fixture.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "e2e/support/token_server.h"
#include "image/http_client.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

constexpr const char* kUser = "alice";
constexpr const char* kPassword = "s3cret-pw";
constexpr const char* kRefreshToken = "identity-token-of-alice";
constexpr const char* kService = "berth-test-registry";
constexpr const char* kIssuer = "berth-test-issuer";
constexpr const char* kRepo = "team/app";

std::string SupportScript(const std::string& name) {
  return absl::StrCat(BERTH_SOURCE_DIR, "/e2e/support/", name);
}

class ImageAuthTest : public e2e::ImageStoreTest {
 protected:
  void SetUp() override {
    ImageStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto image = e2e::BusyboxImage();
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = *std::move(image);
    ASSERT_TRUE(registry_->PushImage(kRepo, "1", image_).ok());
  }

  void TearDown() override {
    processes_.clear();
    protected_.reset();
    ImageStoreTest::TearDown();
  }

  // Starts a second registry serving the first one's storage with `auth_config`.
  void StartProtected(const std::string& auth_config) {
    e2e::TestRegistryOptions options;
    options.extra_config = auth_config;
    options.storage_dir = registry_->storage_dir();
    auto registry = e2e::TestRegistry::Start(options);
    ASSERT_TRUE(registry.ok()) << registry.status();
    protected_ = *std::move(registry);
  }

  void StartHtpasswdRegistry() {
    auto line = e2e::HtpasswdLine(kUser, kPassword);
    ASSERT_TRUE(line.ok()) << line.status();
    std::string path = JoinPath(temp_, "htpasswd");
    ASSERT_TRUE(WriteFile(path, *line + "\n").ok());
    StartProtected(absl::StrCat("auth:\n  htpasswd:\n    realm: berth-test\n    path: ", path,
                                "\n"));
  }

  // Starts the token server and a registry that trusts it; returns the token server's port.
  int StartTokenRegistry() {
    auto keys = e2e::MakeSigningKey(temp_);
    EXPECT_TRUE(keys.ok()) << keys.status();
    auto port = e2e::FreeLoopbackPort();
    EXPECT_TRUE(port.ok()) << port.status();
    if (!keys.ok() || !port.ok()) return 0;
    token_log_ = JoinPath(temp_, "token.log");
    auto server = e2e::ScriptProcess::Start(
        SupportScript("token_server.py"),
        {"--port", std::to_string(*port), "--key", keys->key_path, "--cert", keys->cert_path,
         "--issuer", kIssuer, "--service", kService, "--user",
         absl::StrCat(kUser, ":", kPassword), "--refresh-token",
         absl::StrCat(kRefreshToken, "=", kUser), "--log", token_log_},
        *port, JoinPath(temp_, "token-server.out"));
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return 0;
    processes_.push_back(*std::move(server));
    StartProtected(absl::StrCat("auth:\n  token:\n    realm: http://127.0.0.1:", *port,
                                "/token\n    service: ", kService, "\n    issuer: ", kIssuer,
                                "\n    rootcertbundle: ", keys->cert_path, "\n"));
    return *port;
  }

  std::string ProtectedRef() const { return absl::StrCat(protected_->host(), "/", kRepo, ":1"); }

  size_t TokenRequests(const std::string& needle) const {
    return e2e::GrepLines(token_log_, needle).size();
  }

  static PullOptions WithUser(const std::string& user, const std::string& password) {
    PullOptions options;
    options.credentials.username = user;
    options.credentials.password = password;
    return options;
  }

  e2e::TestImage image_;
  std::unique_ptr<e2e::TestRegistry> protected_;
  std::vector<std::unique_ptr<e2e::ScriptProcess>> processes_;
  std::string token_log_;
};

TEST_F(ImageAuthTest, HtpasswdNeedsTheRightPassword) {
  StartHtpasswdRegistry();
  ASSERT_NE(protected_, nullptr);

  auto anonymous = store_->Pull(ProtectedRef());
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kPermissionDenied) << anonymous.status();
  EXPECT_NE(anonymous.status().message().find(kRepo), absl::string_view::npos);

  auto wrong = store_->Pull(ProtectedRef(), WithUser(kUser, "not-the-password"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied) << wrong.status();
  EXPECT_NE(wrong.status().message().find("credentials were refused"), absl::string_view::npos)
      << wrong.status();

  auto pulled = store_->Pull(ProtectedRef(), WithUser(kUser, kPassword));
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
  EXPECT_EQ(pulled->layer_digests.front(), image_.layers.front().blob.digest);
}

TEST_F(ImageAuthTest, HtpasswdAcceptsTheAuthField) {
  StartHtpasswdRegistry();
  ASSERT_NE(protected_, nullptr);
  PullOptions options;
  options.credentials.auth = absl::Base64Escape(absl::StrCat(kUser, ":", kPassword));
  auto pulled = store_->Pull(ProtectedRef(), options);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
}

TEST_F(ImageAuthTest, TokenServerWithPasswordAndCache) {
  ASSERT_NE(StartTokenRegistry(), 0);
  ASSERT_NE(protected_, nullptr);

  auto anonymous = store_->Pull(ProtectedRef());
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kPermissionDenied) << anonymous.status();
  EXPECT_EQ(TokenRequests("user=- grant=none"), 1u);

  auto pulled = store_->Pull(ProtectedRef(), WithUser(kUser, kPassword));
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
  std::string scope = absl::StrCat("scope=repository:", kRepo, ":pull status=200");
  EXPECT_EQ(TokenRequests(absl::StrCat("user=alice grant=basic ", scope)), 1u);

  // A second pull with the same credentials reuses the cached token.
  auto again = store_->Pull(ProtectedRef(), WithUser(kUser, kPassword));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(TokenRequests("grant=basic"), 1u);

  auto wrong = store_->Pull(ProtectedRef(), WithUser(kUser, "wrong"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied) << wrong.status();
  EXPECT_NE(wrong.status().message().find("as user alice"), absl::string_view::npos)
      << wrong.status();
}

TEST_F(ImageAuthTest, TokenServerWithIdentityToken) {
  ASSERT_NE(StartTokenRegistry(), 0);
  ASSERT_NE(protected_, nullptr);
  PullOptions options;
  options.credentials.identity_token = kRefreshToken;
  auto pulled = store_->Pull(ProtectedRef(), options);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
  EXPECT_EQ(TokenRequests("POST user=alice grant=refresh_token"), 1u);
  EXPECT_EQ(TokenRequests("GET"), 0u);
}

TEST_F(ImageAuthTest, RegistryTokenIsUsedAsIs) {
  int port = StartTokenRegistry();
  ASSERT_NE(port, 0);
  ASSERT_NE(protected_, nullptr);

  // Get a token the way a credential helper would, outside Berth's pull.
  HttpRequest request;
  request.url = absl::StrCat("http://127.0.0.1:", port, "/token?service=", kService,
                             "&scope=repository:", kRepo, ":pull");
  request.allow_http = true;
  request.headers.push_back(
      absl::StrCat("Authorization: Basic ", absl::Base64Escape(absl::StrCat(kUser, ":",
                                                                             kPassword))));
  auto response = HttpSend(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->status, 200) << response->body;
  std::string token = nlohmann::json::parse(response->body)["token"].get<std::string>();
  ASSERT_EQ(TokenRequests("status=200"), 1u);

  PullOptions options;
  options.credentials.registry_token = token;
  auto pulled = store_->Pull(ProtectedRef(), options);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->id, image_.config.digest);
  EXPECT_EQ(TokenRequests("status=200"), 1u);
}

TEST_F(ImageAuthTest, RedirectToOtherHostDropsCredentials) {
  StartHtpasswdRegistry();
  ASSERT_NE(protected_, nullptr);
  auto port = e2e::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  std::string log = JoinPath(temp_, "proxy.log");
  auto proxy = e2e::ScriptProcess::Start(
      SupportScript("faulty_proxy.py"),
      {"--port", std::to_string(*port), "--upstream", protected_->host(), "--log", log,
       "--redirect-blobs"},
      *port, JoinPath(temp_, "proxy.out"));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  processes_.push_back(*std::move(proxy));

  auto pulled = store_->Pull(absl::StrCat("127.0.0.1:", *port, "/", kRepo, ":1"),
                             WithUser(kUser, kPassword));
  ASSERT_TRUE(pulled.ok()) << pulled.status() << "\n" << ReadFile(log).value_or("");
  EXPECT_EQ(pulled->id, image_.config.digest);

  std::vector<std::string> redirects = e2e::GrepLines(log, "action=redirect");
  std::vector<std::string> followed = e2e::GrepLines(log, "?redirected=1");
  ASSERT_FALSE(redirects.empty());
  ASSERT_EQ(followed.size(), redirects.size());
  for (const std::string& line : redirects) EXPECT_NE(line.find("auth=yes"), std::string::npos);
  for (const std::string& line : followed) {
    EXPECT_NE(line.find("host=localhost:"), std::string::npos) << line;
    EXPECT_NE(line.find("auth=no"), std::string::npos) << line;
  }
}

// Starts berthd with `args`; returns nullptr (after a test failure) when it does not start.
std::unique_ptr<e2e::TestDaemon> StartDaemon(std::vector<std::string> args) {
  e2e::TestDaemonOptions options;
  options.extra_args = std::move(args);
  auto daemon = e2e::TestDaemon::Start(options);
  EXPECT_TRUE(daemon.ok()) << daemon.status();
  return daemon.ok() ? *std::move(daemon) : nullptr;
}

TEST_F(ImageAuthTest, CriAuthConfigReachesRegistry) {
  StartHtpasswdRegistry();
  ASSERT_NE(protected_, nullptr);
  std::unique_ptr<e2e::TestDaemon> daemon = StartDaemon({});
  ASSERT_NE(daemon, nullptr);

  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(ProtectedRef());
  runtime::v1::PullImageResponse response;
  grpc::Status anonymous =
      daemon->images().PullImage(e2e::NewClientContext().get(), request, &response);
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << anonymous.error_message();

  request.mutable_auth()->set_username(kUser);
  request.mutable_auth()->set_password(kPassword);
  grpc::Status pulled =
      daemon->images().PullImage(e2e::NewClientContext().get(), request, &response);
  ASSERT_TRUE(pulled.ok()) << pulled.error_message();
  EXPECT_EQ(response.image_ref(), image_.config.digest);
}

TEST_F(ImageAuthTest, CriUsesRegistryConfigDir) {
  auto dead = e2e::FreeLoopbackPort();
  ASSERT_TRUE(dead.ok());
  std::string dead_host = absl::StrCat("127.0.0.1:", *dead);
  std::string config_dir = JoinPath(temp_, "certs.d");
  ASSERT_TRUE(MakeDirs(JoinPath(config_dir, dead_host)).ok());
  ASSERT_TRUE(WriteFile(JoinPath(config_dir, dead_host + "/hosts.toml"),
                        absl::StrCat("[host.\"http://", registry_->host(), "\"]\n"))
                  .ok());
  std::unique_ptr<e2e::TestDaemon> daemon = StartDaemon({"--registry-config-dir", config_dir});
  ASSERT_NE(daemon, nullptr);

  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(absl::StrCat(dead_host, "/", kRepo, ":1"));
  runtime::v1::PullImageResponse response;
  grpc::Status pulled =
      daemon->images().PullImage(e2e::NewClientContext().get(), request, &response);
  ASSERT_TRUE(pulled.ok()) << pulled.error_message();
  EXPECT_EQ(response.image_ref(), image_.config.digest);
}

TEST_F(ImageAuthTest, CriDeadlineStopsDownload) {
  auto port = e2e::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  auto proxy = e2e::ScriptProcess::Start(
      SupportScript("faulty_proxy.py"),
      {"--port", std::to_string(*port), "--upstream", registry_->host(), "--log",
       JoinPath(temp_, "proxy.log"), "--stall-after", "8192"},
      *port, JoinPath(temp_, "proxy.out"));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  processes_.push_back(*std::move(proxy));
  std::unique_ptr<e2e::TestDaemon> daemon = StartDaemon({});
  ASSERT_NE(daemon, nullptr);

  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(absl::StrCat("127.0.0.1:", *port, "/", kRepo, ":1"));
  runtime::v1::PullImageResponse response;
  grpc::Status pulled = daemon->images().PullImage(
      e2e::NewClientContext(std::chrono::seconds(2)).get(), request, &response);
  EXPECT_EQ(pulled.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << pulled.error_message();

  // The stalled download ends soon after the deadline, long before the proxy would give up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool stopped = false;
  while (!stopped && std::chrono::steady_clock::now() < deadline) {
    stopped = daemon->ReadLog().find("CANCELLED") != std::string::npos;
    if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(stopped) << daemon->ReadLog();
}

}  // namespace
}  // namespace berth::image
