// Manifests and indexes (OCI image manifest and index, Docker schema 2 manifest and manifest
// list): telling them apart and parsing the parts a pull needs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "image/descriptor.h"

namespace berth::image {

// Manifests and configs larger than this are rejected before they are read to the end.
inline constexpr int64_t kMaxManifestBytes = 4 << 20;

// At most this many layers in one manifest. A container's overlay mount names every layer in one
// mount option of at most a page (4096 bytes), which fits about this many snapshot paths.
inline constexpr size_t kMaxLayers = 128;

// At most this many entries in one index or manifest list.
inline constexpr size_t kMaxIndexEntries = 1024;

// An image manifest: one config and the layers, bottom first.
struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

// An index or manifest list: one manifest per platform.
struct Index {
  std::vector<Descriptor> manifests;
};

// Returns the media type of a fetched top-level document. The document's own "mediaType" field
// wins; otherwise the HTTP Content-Type (parameters dropped) if it is a manifest or index type;
// otherwise the shape of the JSON decides ("manifests" -> OCI index, "layers" -> OCI manifest).
// Schema 1 manifests and unknown types are FailedPrecondition naming `what` and the type.
absl::StatusOr<std::string> DetectMediaType(std::string_view content_type, std::string_view data,
                                            std::string_view what);

// Parses an image manifest and checks its descriptors: valid digests, non-negative sizes, a
// config of a known config type at most kMaxManifestBytes long, at most kMaxLayers layers, and
// layers Berth can unpack (tar, plain or with gzip or zstd). Other layer types (foreign,
// nondistributable, unknown) and the limits are FailedPrecondition naming the document, the
// layer and its type or the limit.
absl::StatusOr<Manifest> ParseManifest(std::string_view data, std::string_view what);

// Parses an index or manifest list of at most kMaxIndexEntries entries (FailedPrecondition).
absl::StatusOr<Index> ParseIndex(std::string_view data, std::string_view what);

}  // namespace berth::image
