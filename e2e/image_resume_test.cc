// Pulls through e2e/support/faulty_proxy.py in front of docker-registry: a blob cut mid-stream
// resumes with a Range request (or reads the blob again when the server ignores the Range),
// server errors are retried, a stalled blob fails after the no-progress timeout naming the
// blob, and cancelling stops a download.
#include <gtest/gtest.h>

#include <atomic>
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
constexpr int kCutAfter = 100000;
constexpr int kStallAfter = 8192;

class ImageResumeTest : public e2e::ImageStoreTest {
 protected:
  void SetUp() override {
    ImageStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto image = e2e::BusyboxImage();
    ASSERT_TRUE(image.ok()) << image.status();
    image_ = *std::move(image);
    ASSERT_GT(image_.layers.front().blob.data.size(), static_cast<size_t>(kCutAfter));
    ASSERT_LT(image_.config.data.size(), static_cast<size_t>(kStallAfter));
    ASSERT_TRUE(registry_->PushImage(kRepo, "1", image_).ok());
    log_ = JoinPath(temp_, "proxy.log");
  }

  void TearDown() override {
    proxy_.reset();
    ImageStoreTest::TearDown();
  }

  // Starts the proxy with `faults` in front of the registry.
  void StartProxy(std::vector<std::string> faults) {
    auto port = e2e::FreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    proxy_host_ = absl::StrCat("127.0.0.1:", *port);
    std::vector<std::string> args = {"--port", std::to_string(*port), "--upstream",
                                     registry_->host(), "--log", log_};
    args.insert(args.end(), faults.begin(), faults.end());
    auto proxy = e2e::ScriptProcess::Start(
        absl::StrCat(BERTH_SOURCE_DIR, "/e2e/support/faulty_proxy.py"), args, *port,
        JoinPath(temp_, "proxy.out"));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
  }

  std::string ProxyRef() const { return absl::StrCat(proxy_host_, "/", kRepo, ":1"); }
  std::string Log() const { return ReadFile(log_).value_or("(no log)"); }

  e2e::TestImage image_;
  std::string log_;
  std::string proxy_host_;
  std::unique_ptr<e2e::ScriptProcess> proxy_;
};

TEST_F(ImageResumeTest, CutBlobResumesWithRange) {
  StartProxy({"--cut-after", std::to_string(kCutAfter)});
  ASSERT_NE(proxy_, nullptr);
  auto pulled = store_->Pull(ProxyRef());
  ASSERT_TRUE(pulled.ok()) << pulled.status() << "\n" << Log();

  const std::string& layer = image_.layers.front().blob.digest;
  EXPECT_EQ(pulled->id, image_.config.digest);
  ASSERT_EQ(pulled->layer_digests.size(), 1u);
  EXPECT_EQ(pulled->layer_digests[0], layer);
  std::vector<std::string> cut = e2e::GrepLines(log_, "action=cut");
  ASSERT_EQ(cut.size(), 1u) << Log();
  EXPECT_NE(cut[0].find(layer), std::string::npos);
  std::vector<std::string> resumed =
      e2e::GrepLines(log_, absl::StrCat("range=bytes=", kCutAfter, "-"));
  ASSERT_EQ(resumed.size(), 1u) << Log();
  EXPECT_NE(resumed[0].find(layer), std::string::npos);
  EXPECT_NE(resumed[0].find("status=206"), std::string::npos) << resumed[0];
}

TEST_F(ImageResumeTest, IgnoredRangeRestartsCleanly) {
  StartProxy({"--cut-after", std::to_string(kCutAfter), "--ignore-range"});
  ASSERT_NE(proxy_, nullptr);
  auto pulled = store_->Pull(ProxyRef());
  ASSERT_TRUE(pulled.ok()) << pulled.status() << "\n" << Log();
  EXPECT_EQ(pulled->id, image_.config.digest);
  ASSERT_EQ(pulled->layer_digests.size(), 1u);
  EXPECT_EQ(pulled->layer_digests[0], image_.layers.front().blob.digest);

  // The second request asked for the rest and got the whole blob, of which only the part not
  // received before reached the unpacker (the layer's digest and diff id both verified).
  std::vector<std::string> resumed =
      e2e::GrepLines(log_, absl::StrCat("range=bytes=", kCutAfter, "-"));
  ASSERT_EQ(resumed.size(), 1u) << Log();
  EXPECT_NE(resumed[0].find("status=200"), std::string::npos) << resumed[0];
}

TEST_F(ImageResumeTest, ServerErrorsAreRetried) {
  StartProxy({"--errors", "503,429,502"});
  ASSERT_NE(proxy_, nullptr);
  auto pulled = store_->Pull(ProxyRef());
  ASSERT_TRUE(pulled.ok()) << pulled.status() << "\n" << Log();
  EXPECT_EQ(pulled->id, image_.config.digest);
  EXPECT_EQ(e2e::GrepLines(log_, "action=error").size(), 3u) << Log();
}

TEST_F(ImageResumeTest, StalledBlobFailsNamingIt) {
  StartProxy({"--stall-after", std::to_string(kStallAfter)});
  ASSERT_NE(proxy_, nullptr);
  ImageStoreOptions options;
  options.root = JoinPath(temp_, "impatient-root");
  options.pull_progress_timeout_seconds = 2;
  auto store = ImageStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();

  auto started = std::chrono::steady_clock::now();
  auto pulled = (*store)->Pull(ProxyRef());
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), absl::StatusCode::kDeadlineExceeded) << pulled.status();
  EXPECT_NE(pulled.status().message().find(image_.layers.front().blob.digest),
            absl::string_view::npos)
      << pulled.status();
  EXPECT_NE(pulled.status().message().find("no progress for 2 s"), absl::string_view::npos)
      << pulled.status();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
}

TEST_F(ImageResumeTest, CancelStopsDownload) {
  StartProxy({"--stall-after", std::to_string(kStallAfter)});
  ASSERT_NE(proxy_, nullptr);
  auto started = std::chrono::steady_clock::now();
  PullOptions options;
  options.cancelled = [started] {
    return std::chrono::steady_clock::now() - started > std::chrono::seconds(1);
  };
  auto pulled = store_->Pull(ProxyRef(), options);
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), absl::StatusCode::kCancelled) << pulled.status();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(6));
}

}  // namespace
}  // namespace berth::image
