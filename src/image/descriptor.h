// The OCI content descriptor and the platform an index entry is for: plain data, parsed in
// manifest.cc, matched in platform.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace berth::image {

// A platform as OCI writes it ("linux", "arm64", "v8").
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;  // empty when not given
};

// A pointer to one blob: what it is, its digest and its exact size in bytes.
struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::optional<Platform> platform;  // set on index entries that name one
};

}  // namespace berth::image
