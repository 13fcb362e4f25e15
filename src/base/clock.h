// Time stamps as CRI uses them: nanoseconds since the Unix epoch, and RFC 3339 text.
#pragma once

#include <cstdint>
#include <string>

namespace berth {

// Returns the current wall-clock time in nanoseconds since the Unix epoch.
int64_t NowNanos();

// Formats nanoseconds since the epoch as RFC 3339 with nine fraction digits in UTC,
// e.g. 2024-05-01T10:20:30.123456789Z, the time stamp of CRI log lines.
std::string FormatRfc3339Nano(int64_t nanos);

}  // namespace berth
