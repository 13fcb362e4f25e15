// Pulls from a small fake registry of the test's own on loopback, for what docker-registry does
// not do by itself: anonymous bearer tokens, Basic challenges, schema 1 and unknown manifests,
// oversized manifests and server errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/file.h"
#include "e2e/support/test_image.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

struct Reply {
  int status = 200;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

struct Request {
  std::string path;  // with the query
  std::map<std::string, std::string> headers;  // names lowercased
};

// A one-thread HTTP/1.1 server on 127.0.0.1: one request per connection, each replied to by `handler`.
class FakeRegistry {
 public:
  explicit FakeRegistry(std::function<Reply(const Request&)> handler)
      : handler_(std::move(handler)) {
    listener_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_.get(), 16) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1: " << std::strerror(errno);
      return;
    }
    host_ = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
    thread_ = std::thread([this] { Serve(); });
  }

  ~FakeRegistry() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  const std::string& host() const { return host_; }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd fd{listener_.get(), POLLIN, 0};
      if (::poll(&fd, 1, 100) <= 0) continue;
      UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!connection) continue;
      timeval timeout{5, 0};
      ::setsockopt(connection.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      Answer(connection.get());
    }
  }

  void Answer(int fd) {
    std::string head;
    char buffer[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      head.append(buffer, static_cast<size_t>(n));
    }
    Request request;
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    size_t space = first.find(' ');
    request.path = first.substr(space + 1, first.rfind(' ') - space - 1);
    size_t pos = line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      std::string line = head.substr(pos, end - pos);
      pos = end + 2;
      if (line.empty()) break;
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value_start = line.find_first_not_of(' ', colon + 1);
      request.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
    }
    ++requests_;

    Reply reply = handler_(request);
    std::string response = absl::StrCat("HTTP/1.1 ", reply.status, " X\r\n",
                                        "Content-Length: ", reply.body.size(), "\r\n",
                                        "Connection: close\r\n");
    for (const std::string& header : reply.headers) absl::StrAppend(&response, header, "\r\n");
    absl::StrAppend(&response, "\r\n", reply.body);
    std::string_view rest = response;
    while (!rest.empty()) {
      ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }

  std::function<Reply(const Request&)> handler_;
  UniqueFd listener_;
  std::string host_;
  std::thread thread_;
  std::atomic<bool> stop_ = false;
  std::atomic<int> requests_ = 0;
};

class ImageFakeRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const char* base = std::getenv("TMPDIR");
    temp_ = JoinPath(base && *base ? base : "/tmp", "berth-image-e2e-XXXXXX");
    ASSERT_NE(::mkdtemp(temp_.data()), nullptr);
    auto store = ImageStore::Open(ImageStoreOptions::AtRoot(JoinPath(temp_, "root")));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void TearDown() override {
    store_.reset();
    if (!temp_.empty()) (void)RemoveAll(temp_);
  }

  std::string temp_;
  std::unique_ptr<ImageStore> store_;
};

// Serves `image` as app:latest, but only to requests that carry the token "tok-1".
Reply TokenProtected(const e2e::TestImage& image, const std::string& host, const Request& r) {
  if (r.path.starts_with("/token?")) {
    if (r.path != "/token?service=fake&scope=repository%3Aapp%3Apull") return {400, {}, "scope?"};
    return {200, {"Content-Type: application/json"}, R"({"token":"tok-1"})"};
  }
  auto auth = r.headers.find("authorization");
  if (auth == r.headers.end() || auth->second != "Bearer tok-1") {
    return {401,
            {absl::StrCat("WWW-Authenticate: Bearer realm=\"http://", host,
                          "/token\",service=\"fake\",scope=\"repository:app:pull\"")},
            R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
  }
  if (r.path == "/v2/app/manifests/latest") {
    return {200, {"Content-Type: " + image.manifest.media_type}, image.manifest.data};
  }
  for (const e2e::TestBlob* blob : {&image.config, &image.layers[0].blob}) {
    if (r.path == "/v2/app/blobs/" + blob->digest) return {200, {}, blob->data};
  }
  return {404, {}, ""};
}

TEST_F(ImageFakeRegistryTest, AnonymousBearerToken) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok());
  std::string host;
  FakeRegistry registry([&](const Request& r) { return TokenProtected(*image, host, r); });
  host = registry.host();

  auto record = store_->Pull(host + "/app");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->id, image->config.digest);
  // 401, token, manifest, then config and layer with the cached token.
  EXPECT_EQ(registry.requests(), 5);
}

TEST_F(ImageFakeRegistryTest, BasicChallengeIsPermissionDenied) {
  FakeRegistry registry([](const Request&) {
    return Reply{401, {"WWW-Authenticate: Basic realm=\"private\""}, ""};
  });
  auto record = store_->Pull(registry.host() + "/private/app:1");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kPermissionDenied) << record.status();
  EXPECT_NE(std::string(record.status().message()).find("private/app"), std::string::npos);
}

TEST_F(ImageFakeRegistryTest, Schema1IsRejected) {
  FakeRegistry registry([](const Request&) {
    return Reply{200,
                 {"Content-Type: application/vnd.docker.distribution.manifest.v1+prettyjws"},
                 R"({"schemaVersion":1,"name":"old","tag":"latest","fsLayers":[]})"};
  });
  auto record = store_->Pull(registry.host() + "/old");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kFailedPrecondition) << record.status();
  EXPECT_NE(std::string(record.status().message()).find("schema 1"), std::string::npos);
}

TEST_F(ImageFakeRegistryTest, UnknownMediaTypeIsRejected) {
  FakeRegistry registry([](const Request&) {
    return Reply{200, {"Content-Type: application/vnd.example.thing+json"},
                 R"({"schemaVersion":2,"mediaType":"application/vnd.example.thing+json"})"};
  });
  auto record = store_->Pull(registry.host() + "/thing");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kFailedPrecondition) << record.status();
  EXPECT_NE(std::string(record.status().message()).find("application/vnd.example.thing+json"),
            std::string::npos);
}

TEST_F(ImageFakeRegistryTest, OversizedManifestIsRejected) {
  FakeRegistry registry([](const Request&) {
    return Reply{200, {"Content-Type: application/vnd.oci.image.manifest.v1+json"},
                 std::string((4 << 20) + 1, ' ')};
  });
  auto record = store_->Pull(registry.host() + "/huge");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kFailedPrecondition) << record.status();
  EXPECT_NE(std::string(record.status().message()).find("4194304"), std::string::npos);
}

TEST_F(ImageFakeRegistryTest, ServerErrorIsUnavailable) {
  FakeRegistry registry([](const Request&) { return Reply{503, {}, "busy"}; });
  auto record = store_->Pull(registry.host() + "/app");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kUnavailable) << record.status();
  EXPECT_NE(std::string(record.status().message()).find(registry.host()), std::string::npos);
}

}  // namespace
}  // namespace berth::image
