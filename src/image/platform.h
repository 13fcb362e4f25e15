// Platform names and the choice of one manifest from an index (manifest list).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "image/descriptor.h"

namespace berth::image {

// The platform this binary was built for, e.g. linux/amd64.
Platform HostPlatform();

// Lowercases and maps the usual aliases to OCI names: x86_64 -> amd64, aarch64 -> arm64
// (variant v8 dropped, as it is arm64's default), armhf -> arm/v7, armel -> arm/v6.
Platform NormalizePlatform(Platform platform);

// "os/architecture" or "os/architecture/variant".
std::string PlatformString(const Platform& platform);

// Returns the entry of `manifests` (an index's list) for `want`, which must match OS and
// architecture. An entry with the same variant wins over one without a variant. When `want` has
// no variant, an entry without one wins over entries with one. Entries without a platform are
// skipped. When nothing matches, returns NotFound naming `reference`, `want` and the platforms
// the index lists.
absl::StatusOr<Descriptor> SelectPlatform(const std::vector<Descriptor>& manifests,
                                          const Platform& want, std::string_view reference);

}  // namespace berth::image
