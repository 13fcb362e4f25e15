#include "base/id.h"

#include <sys/random.h>

#include <cstdio>
#include <random>

namespace berth {

std::string NewId() {
  unsigned char bytes[32];
  size_t filled = 0;
  while (filled < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + filled, sizeof(bytes) - filled, 0);
    if (n <= 0) break;
    filled += static_cast<size_t>(n);
  }
  if (filled < sizeof(bytes)) {
    // getrandom(2) blocks until the kernel pool is ready and then does not fail for 32 bytes, so
    // this fallback is only a guard against an unexpected error.
    std::random_device device;
    for (size_t i = filled; i < sizeof(bytes); ++i) bytes[i] = static_cast<unsigned char>(device());
  }
  std::string id(64, '0');
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof(bytes); ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return id;
}

}  // namespace berth
