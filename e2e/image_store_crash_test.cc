// A pull killed at any moment leaves no half image: berthd is killed with SIGKILL while it pulls
// an image of several large layers, at a different moment in each round, then restarted. The
// image is either listed whole or not at all, no temporary file or folder is left, and the next
// pull completes.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "e2e/support/cri_fixture.h"
#include "e2e/support/daemon.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {
namespace {

constexpr size_t kLayers = 3;
constexpr size_t kLayerBytes = 12 << 20;

// Bytes that do not compress, so every layer costs real download and unpack time.
std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t value = generator();
    std::memcpy(bytes.data() + i, &value, 8);
  }
  return bytes;
}

absl::StatusOr<TestImage> LargeImage(uint64_t seed) {
  std::vector<TestLayer> layers;
  for (size_t i = 0; i < kLayers; ++i) {
    auto layer = LayerBuilder()
                     .Dir("data")
                     .File(absl::StrCat("data/blob", i), RandomBytes(kLayerBytes, seed * 10 + i))
                     .Build(/*gzip=*/false);
    if (!layer.ok()) return layer.status();
    layers.push_back(*std::move(layer));
  }
  return BuildImage(std::move(layers), {});
}

class StoreCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto registry = TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    auto daemon = TestDaemon::Start();
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  void TearDown() override {
    if (daemon_ && HasFailure()) std::fprintf(stderr, "%s\n", daemon_->ReadLog().c_str());
    daemon_.reset();
    registry_.reset();
  }

  absl::Status Pull(const std::string& reference) {
    v1::PullImageRequest request;
    request.mutable_image()->set_image(reference);
    v1::PullImageResponse response;
    return FromGrpc(daemon_->images().PullImage(
        NewClientContext(std::chrono::seconds(120)).get(), request, &response));
  }

  std::vector<v1::Image> Images() {
    v1::ListImagesResponse listed;
    grpc::Status status = daemon_->images().ListImages(NewClientContext().get(), {}, &listed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {listed.images().begin(), listed.images().end()};
  }

  // True once the daemon writes a blob or unpacks a layer.
  bool PullUnderWay() const {
    for (const std::string& name : ListDir(JoinPath(daemon_->root(), "snapshots"))) {
      if (name.starts_with("tmp-")) return true;
    }
    return !ListDir(JoinPath(daemon_->root(), "content/ingest")).empty();
  }

  // Temporary entries an interrupted pull may leave, which a restart must delete.
  std::vector<std::string> Leftovers() const {
    std::vector<std::string> found;
    for (const std::string& name : ListDir(JoinPath(daemon_->root(), "snapshots"))) {
      if (name.starts_with("tmp-")) found.push_back("snapshots/" + name);
    }
    for (const std::string& name : ListDir(JoinPath(daemon_->root(), "content/ingest"))) {
      found.push_back("content/ingest/" + name);
    }
    for (const std::string& name : ListDir(JoinPath(daemon_->root(), "images"))) {
      if (name.find(".tmp-") != std::string::npos) found.push_back("images/" + name);
    }
    return found;
  }

  // Checks that every snapshot of image `id` contains its layer's file at full size.
  void ExpectWhole(const std::string& id) {
    SCOPED_TRACE(id);
    v1::ImageStatusRequest request;
    request.mutable_image()->set_image(id);
    request.set_verbose(true);
    v1::ImageStatusResponse response;
    ASSERT_TRUE(daemon_->images().ImageStatus(NewClientContext().get(), request, &response).ok());
    ASSERT_TRUE(response.info().contains("info"));
    nlohmann::json info = nlohmann::json::parse(response.info().at("info"), nullptr, false);
    ASSERT_TRUE(info.is_object());
    ASSERT_TRUE(info["snapshots"].is_array());
    ASSERT_EQ(info["snapshots"].size(), kLayers);
    for (size_t i = 0; i < kLayers; ++i) {
      std::string file = JoinPath(info["snapshots"][i].get<std::string>(),
                                  absl::StrCat("data/blob", i));
      struct stat st {};
      ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
      EXPECT_EQ(static_cast<size_t>(st.st_size), kLayerBytes) << file;
    }
  }

  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TestDaemon> daemon_;
};

TEST_F(StoreCrashTest, KilledPullLeavesNoHalfImage) {
  // Each round kills the daemon a little later after the pull started writing.
  const std::chrono::milliseconds kDelays[] = {std::chrono::milliseconds(0),
                                               std::chrono::milliseconds(120),
                                               std::chrono::milliseconds(300)};
  int killed_mid_pull = 0;
  for (size_t round = 0; round < std::size(kDelays); ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    auto image = LargeImage(round + 1);
    ASSERT_TRUE(image.ok()) << image.status();
    std::string repo = absl::StrCat("large", round);
    ASSERT_TRUE(registry_->PushImage(repo, "latest", *image).ok());
    std::string reference = absl::StrCat(registry_->host(), "/", repo, ":latest");

    auto pull = std::async(std::launch::async, [this, reference] { return Pull(reference); });
    auto start = std::chrono::steady_clock::now();
    while (!PullUnderWay() && pull.wait_for(std::chrono::milliseconds(2)) ==
                                  std::future_status::timeout) {
      ASSERT_LT(MillisSince(start), 30000) << "the pull never started writing";
    }
    std::this_thread::sleep_for(kDelays[round]);
    auto stopped = daemon_->Stop(std::chrono::seconds(5), SIGKILL);
    ASSERT_TRUE(stopped.ok()) << stopped.status();
    absl::Status pulled = pull.get();
    if (!pulled.ok()) ++killed_mid_pull;
    Report(absl::StrCat("round_", round), pulled.ok() ? "pull finished before the kill"
                                                      : pulled.ToString());

    ASSERT_TRUE(daemon_->Restart().ok());
    EXPECT_TRUE(Leftovers().empty()) << absl::StrJoin(Leftovers(), ", ");
    // The kill may come after the record was written but before the reply was sent, so the
    // image may be listed. A listed image must have every layer whole.
    for (const v1::Image& listed : Images()) ExpectWhole(listed.id());
    absl::Status again = Pull(reference);
    ASSERT_TRUE(again.ok()) << again;
  }
  EXPECT_GE(killed_mid_pull, 1) << "every pull finished before its kill";
  EXPECT_EQ(Images().size(), std::size(kDelays));
}

}  // namespace
}  // namespace berth::e2e
