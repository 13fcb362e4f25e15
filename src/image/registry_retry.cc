#include "image/registry_retry.h"

#include <algorithm>
#include <random>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"

namespace berth::image {

bool IsRetryableStatus(long status) {
  if (status == 408 || status == 429) return true;
  return status >= 500 && status <= 599 && status != 501 && status != 505;
}

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry) {
  int64_t delay = policy.initial_delay.count();
  for (int i = 1; i < retry && delay < policy.max_delay.count(); ++i) delay *= 2;
  delay = std::min<int64_t>(delay, policy.max_delay.count());
  thread_local std::minstd_rand random(std::random_device{}());
  int64_t jitter = delay / 4 > 0 ? static_cast<int64_t>(random() % (delay / 4)) : 0;
  return std::chrono::milliseconds(delay - jitter);
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  std::string text(value);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(seconds * 1000);
  }
  absl::Time when;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", text, &when, &error)) return std::nullopt;
  auto delay = absl::ToChronoTime(when) - now;
  if (delay < std::chrono::system_clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(delay);
}

absl::Status SleepUnlessCancelled(std::chrono::milliseconds delay,
                                  const std::function<bool()>& cancelled) {
  constexpr auto kStep = std::chrono::milliseconds(100);
  auto deadline = std::chrono::steady_clock::now() + delay;
  while (true) {
    if (cancelled && cancelled()) return absl::CancelledError("pull cancelled");
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return absl::OkStatus();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kStep));
  }
}

}  // namespace berth::image
