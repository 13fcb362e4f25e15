// The pull pipeline against a real docker-registry: layers download in parallel within the
// configured bound, concurrent pulls share each layer's download, a failed download lets the
// waiting pull try again, and a cancelled pull stops and leaves nothing half done.
#include <dirent.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/image_store_fixture.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

using e2e::LayerBuilder;
using e2e::TestImage;
using e2e::TestLayer;

// An uncompressed layer holding one file of `bytes` random bytes, different for each `seed`.
TestLayer RandomLayer(int seed, size_t bytes) {
  std::mt19937_64 random(static_cast<uint64_t>(seed));
  std::string data(bytes, '\0');
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    uint64_t word = random();
    std::memcpy(&data[i], &word, 8);
  }
  LayerBuilder builder;
  builder.File(absl::StrCat("data-", seed), data);
  auto layer = builder.Build(/*gzip=*/false);
  EXPECT_TRUE(layer.ok()) << layer.status();
  return *layer;
}

// Collects the progress reports of several pulls.
class ProgressLog {
 public:
  std::function<void(const PullProgress&)> Callback() {
    return [this](const PullProgress& progress) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (progress.kind != "layer") return;
      if (!progress.done && progress.downloaded > 0 && started_.insert(progress.digest).second) {
        ++in_flight_;
        max_in_flight_ = std::max(max_in_flight_, in_flight_);
      }
      if (progress.done) {
        if (started_.erase(progress.digest) > 0) --in_flight_;
        if (!progress.reused) ++fetched_[progress.digest];
      }
    };
  }

  int max_in_flight() {
    std::lock_guard<std::mutex> lock(mutex_);
    return max_in_flight_;
  }

  std::map<std::string, int> fetched() {
    std::lock_guard<std::mutex> lock(mutex_);
    return fetched_;
  }

 private:
  std::mutex mutex_;
  std::set<std::string> started_;  // layers streaming now
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::map<std::string, int> fetched_;  // digest -> downloads finished
};

class ImageConcurrencyTest : public e2e::ImageStoreTest {
 protected:
  // Reopens the store on a fresh root with `max_concurrent_downloads`.
  void Reopen(const std::string& name, int max_concurrent_downloads) {
    store_.reset();
    ImageStoreOptions options;
    options.root = JoinPath(temp_, name);
    options.max_concurrent_downloads = max_concurrent_downloads;
    auto store = ImageStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  size_t CountEntries(const std::string& relative) const {
    std::string dir = JoinPath(store_->root(), relative);
    std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
    if (!handle) return 0;
    size_t count = 0;
    while (struct dirent* entry = ::readdir(handle.get())) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") ++count;
    }
    return count;
  }
};

TEST_F(ImageConcurrencyTest, LayersDownloadInParallelWithinTheBound) {
  std::vector<TestLayer> layers;
  for (int i = 0; i < 6; ++i) layers.push_back(RandomLayer(i, 6 << 20));
  auto image = e2e::BuildImage(layers, {});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(registry_->PushImage("wide", "latest", *image).ok());

  for (int bound : {3, 1}) {
    SCOPED_TRACE(absl::StrCat("max_concurrent_downloads=", bound));
    Reopen(absl::StrCat("root-", bound), bound);
    ProgressLog log;
    PullOptions options;
    options.on_progress = log.Callback();
    auto record = store_->Pull(Ref("wide"), options);
    ASSERT_TRUE(record.ok()) << record.status();
    ASSERT_EQ(record->LayerDirs().size(), layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_TRUE(PathExists(JoinPath(record->LayerDirs()[i], absl::StrCat("data-", i))));
    }
    EXPECT_LE(log.max_in_flight(), bound);
    if (bound > 1) {
      EXPECT_GE(log.max_in_flight(), 2);
    }
    EXPECT_EQ(log.fetched().size(), layers.size());
  }
}

TEST_F(ImageConcurrencyTest, ConcurrentPullsShareDownloads) {
  auto base = e2e::BusyboxLayer();
  ASSERT_TRUE(base.ok());
  TestLayer shared1 = RandomLayer(11, 2 << 20);
  TestLayer shared2 = RandomLayer(12, 2 << 20);
  auto app = e2e::BuildImage({*base, shared1, shared2, RandomLayer(13, 2 << 20)}, {});
  auto tool = e2e::BuildImage({*base, shared1, shared2, RandomLayer(14, 2 << 20)}, {});
  ASSERT_TRUE(app.ok());
  ASSERT_TRUE(tool.ok());
  ASSERT_TRUE(registry_->PushImage("app", "latest", *app).ok());
  ASSERT_TRUE(registry_->PushImage("tool", "latest", *tool).ok());

  ProgressLog log;
  PullOptions options;
  options.on_progress = log.Callback();
  std::vector<std::string> refs = {Ref("app"), Ref("app"), Ref("tool"), Ref("app")};
  std::vector<absl::StatusOr<ImageRecord>> results(refs.size(), absl::UnknownError("not run"));
  std::vector<std::thread> pulls;
  for (size_t i = 0; i < refs.size(); ++i) {
    pulls.emplace_back([&, i] { results[i] = store_->Pull(refs[i], options); });
  }
  for (std::thread& pull : pulls) pull.join();

  for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(results[0]->LayerDirs(), results[1]->LayerDirs());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(results[0]->LayerDirs()[i], results[2]->LayerDirs()[i]);
  // Five distinct layers, each downloaded once across the four pulls.
  std::map<std::string, int> fetched = log.fetched();
  EXPECT_EQ(fetched.size(), 5u);
  for (const auto& [digest, count] : fetched) EXPECT_EQ(count, 1) << digest;
  EXPECT_EQ(CountEntries("snapshots"), 5u);
}

TEST_F(ImageConcurrencyTest, FailedDownloadLetsTheWaitingPullRetry) {
  TestLayer layer = RandomLayer(21, 4 << 20);
  auto image = e2e::BuildImage({layer}, {});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(registry_->PushImage("retry", "latest", *image).ok());

  // The first pull stops in the middle of its layer, once the second one waits for it.
  std::mutex mutex;
  std::condition_variable changed;
  bool first_streaming = false;
  bool second_resolved = false;
  std::atomic<bool> cancel_first{false};

  PullOptions first_options;
  first_options.cancelled = [&] { return cancel_first.load(); };
  first_options.on_progress = [&](const PullProgress& progress) {
    if (progress.kind != "layer" || progress.done || progress.downloaded == 0) return;
    std::unique_lock<std::mutex> lock(mutex);
    if (first_streaming) return;
    first_streaming = true;
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(20), [&] { return second_resolved; });
    // Give the second pull time to reach the layer, where it waits for this download.
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel_first = true;
  };
  ProgressLog second_log;
  PullOptions second_options;
  auto second_callback = second_log.Callback();
  second_options.on_progress = [&](const PullProgress& progress) {
    if (progress.kind == "config" && progress.done) {
      std::lock_guard<std::mutex> lock(mutex);
      second_resolved = true;
      changed.notify_all();
    }
    second_callback(progress);
  };

  absl::StatusOr<ImageRecord> first = absl::UnknownError("not run");
  absl::StatusOr<ImageRecord> second = absl::UnknownError("not run");
  std::thread first_pull([&] { first = store_->Pull(Ref("retry"), first_options); });
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return first_streaming; }));
  }
  std::thread second_pull([&] { second = store_->Pull(Ref("retry"), second_options); });
  first_pull.join();
  second_pull.join();

  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kCancelled) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second_log.fetched()[layer.blob.digest], 1);
  EXPECT_TRUE(PathExists(JoinPath(second->LayerDirs()[0], "data-21")));
  EXPECT_EQ(CountEntries("snapshots"), 1u);
}

TEST_F(ImageConcurrencyTest, CancelledPullLeavesNothingBehind) {
  std::vector<TestLayer> layers = {RandomLayer(31, 4 << 20), RandomLayer(32, 4 << 20)};
  auto image = e2e::BuildImage(layers, {});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(registry_->PushImage("cancel", "latest", *image).ok());

  std::atomic<bool> cancel{false};
  PullOptions options;
  options.cancelled = [&] { return cancel.load(); };
  options.on_progress = [&](const PullProgress& progress) {
    if (progress.kind == "layer" && progress.downloaded > 0) cancel = true;
  };
  auto record = store_->Pull(Ref("cancel"), options);
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kCancelled) << record.status();
  EXPECT_NE(std::string(record.status().message()).find(Ref("cancel:latest")), std::string::npos)
      << record.status();
  EXPECT_TRUE(store_->List().empty());
  EXPECT_EQ(CountEntries("snapshots"), 0u);
  EXPECT_EQ(CountEntries("content/ingest"), 0u);

  // Nothing stuck: the next pull completes.
  cancel = false;
  options.on_progress = nullptr;
  options.cancelled = nullptr;
  auto again = store_->Pull(Ref("cancel"), options);
  ASSERT_TRUE(again.ok()) << again.status();
}

}  // namespace
}  // namespace berth::image
