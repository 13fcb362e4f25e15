#include "base/clock.h"

#include <time.h>

#include <cstdio>

namespace berth {

int64_t NowNanos() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string FormatRfc3339Nano(int64_t nanos) {
  time_t seconds = static_cast<time_t>(nanos / 1000000000);
  long fraction = static_cast<long>(nanos % 1000000000);
  if (fraction < 0) {
    fraction += 1000000000;
    seconds -= 1;
  }
  struct tm utc;
  ::gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                utc.tm_sec, fraction);
  return buffer;
}

}  // namespace berth
