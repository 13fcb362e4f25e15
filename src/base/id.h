// Random object ids: 64 lowercase hex digits, like container and sandbox ids in CRI runtimes.
#pragma once

#include <string>

namespace berth {

// Returns a new random id read from the kernel's random source.
std::string NewId();

}  // namespace berth
