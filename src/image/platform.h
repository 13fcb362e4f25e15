// Platform names and the choice of one manifest from an index (manifest list).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "image/descriptor.h"

namespace berth::image {

// The platform this host runs: linux, the architecture this binary was built for, and on amd64
// the highest microarchitecture level the CPU supports (v2, v3 or v4; none for the baseline v1).
Platform HostPlatform();

// Lowercases and maps the usual aliases to OCI names: x86_64 -> amd64, aarch64 -> arm64
// (variant v8 dropped, as it is arm64's default), armhf -> arm/v7, armel -> arm/v6.
Platform NormalizePlatform(Platform platform);

// "os/architecture" or "os/architecture/variant".
std::string PlatformString(const Platform& platform);

// Scores how well a host of platform `want` runs images of platform `have`. 0 means it cannot
// run them, and of two candidates the higher score is the better choice. OS and architecture
// must be equal (after NormalizePlatform). Variants follow each architecture's ladder, oldest
// first:
//   amd64: v1 v2 v3 v4       (no variant means v1)
//   arm:   v5 v6 v7 v8       (no variant means v7)
//   arm64: v8 v8.1 ... v8.9 v9 v9.1 ... v9.5   (no variant means v8)
// A host runs its own variant and every older one; the exact variant scores highest, then the
// nearest older one. Among equal variants, the one spelt as in `want` (both empty or both
// written out) wins. Other architectures match only the same variant.
int PlatformMatchScore(const Platform& want, const Platform& have);

// Returns the entry of `manifests` (an index's list) that best fits `want` by
// PlatformMatchScore; the first of equally good entries wins. Entries without a platform are
// skipped. When nothing matches, returns NotFound naming `reference`, `want` and the platforms
// the index lists.
absl::StatusOr<Descriptor> SelectPlatform(const std::vector<Descriptor>& manifests,
                                          const Platform& want, std::string_view reference);

}  // namespace berth::image
