#include "image/pull_pipeline.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <optional>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace berth::image {
namespace {

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

// The shared state of the workers of one EnsureLayers call.
class LayerQueue {
 public:
  LayerQueue(PullContext& context, const Reference& ref, const std::vector<LayerTask>& tasks)
      : context_(context), ref_(ref), tasks_(tasks), stop_(context.options),
        order_(tasks.size()), results_(tasks.size()) {
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(), [&tasks](size_t a, size_t b) {
      return tasks[a].blob.size > tasks[b].blob.size;
    });
  }

  // Takes layers until none is left or one failed.
  void Work() {
    while (true) {
      size_t next = next_.fetch_add(1);
      if (next >= order_.size()) return;
      size_t index = order_[next];
      auto snapshot = EnsureLayer(context_, ref_, tasks_[index], stop_);
      if (!snapshot.ok()) {
        Fail(snapshot.status());
        return;
      }
      results_[index] = *std::move(snapshot);
    }
  }

  absl::StatusOr<std::vector<Snapshot>> Result() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_.ok()) return error_;
    std::vector<Snapshot> snapshots;
    for (std::optional<Snapshot>& result : results_) snapshots.push_back(*std::move(result));
    return snapshots;
  }

 private:
  // Keeps the first error; the ones after it are mostly the Aborted of layers it stopped.
  void Fail(const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_.ok()) error_ = status;
    stop_.Fail();
    next_ = order_.size();
  }

  PullContext& context_;
  const Reference& ref_;
  const std::vector<LayerTask>& tasks_;
  PullStop stop_;
  std::vector<size_t> order_;  // indexes into tasks_, largest blob first
  std::atomic<size_t> next_{0};
  std::vector<std::optional<Snapshot>> results_;
  std::mutex mutex_;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<std::vector<Snapshot>> EnsureLayers(PullContext& context, const Reference& ref,
                                                   const std::vector<LayerTask>& tasks) {
  LayerQueue queue(context, ref, tasks);
  size_t workers = std::clamp<size_t>(static_cast<size_t>(std::max(1, context.max_concurrent_downloads)),
                                      1, std::max<size_t>(tasks.size(), 1));
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < workers; ++i) {
    try {
      helpers.emplace_back([&queue] { queue.Work(); });
    } catch (const std::system_error& error) {
      // Fewer threads only make the pull slower.
      Log()->warn("cannot start a layer thread image={} error=\"{}\"", ref.String(), error.what());
      break;
    }
  }
  queue.Work();
  for (std::thread& helper : helpers) helper.join();
  return queue.Result();
}

}  // namespace berth::image
