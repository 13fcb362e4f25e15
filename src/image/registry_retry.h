// When and how long the registry client waits before trying a request again: exponential
// backoff, bounded both in attempts and in total waiting time, and the server's Retry-After
// when it sends one.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace berth::image {

struct RetryPolicy {
  // Attempts of one request on one host, the first included.
  int max_attempts = 5;
  // Wait before the first retry; each further retry waits twice as long, up to max_delay.
  std::chrono::milliseconds initial_delay{250};
  std::chrono::milliseconds max_delay{8000};
  // Total waiting of one request on one host; a retry that would pass it is not made.
  std::chrono::milliseconds max_total_delay{30000};
};

// Whether a response status is worth another attempt: 408, 429 and every 5xx but 501 and 505,
// which will not change.
bool IsRetryableStatus(long status);

// The wait before retry number `retry` (1 for the first): initial_delay * 2^(retry-1), at most
// max_delay, less a random part of up to a quarter so that many clients do not retry in step.
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry);

// Reads a Retry-After value: delay seconds ("120") or an HTTP date. nullopt when unreadable;
// a date in the past is zero.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now);

// Sleeps `delay`, waking every 100 ms to poll `cancelled` (may be empty). Cancelled when it
// returns true.
absl::Status SleepUnlessCancelled(std::chrono::milliseconds delay,
                                  const std::function<bool()>& cancelled);

}  // namespace berth::image
