// The record of one pulled image, as kept in <root>/images/<config hex>.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "image/image_config.h"

namespace berth::image {

struct ImageRecord {
  // "sha256:<hex>" of the image config: the image id.
  std::string id;
  // Normalised "repository:tag" names, e.g. "127.0.0.1:5000/busybox:latest".
  std::vector<std::string> repo_tags;
  // "repository@sha256:<hex>" of the document each repository resolved to (the index when the
  // image came through one, else the manifest).
  std::vector<std::string> repo_digests;
  // Sum of the layer blob sizes in bytes, as the manifest gives them (compressed).
  int64_t size = 0;
  ImageConfig config;
  // Digest of the image manifest for this platform.
  std::string manifest_digest;
  // Digest of the index the manifest was chosen from; empty when the reference named a manifest.
  std::string index_digest;
  // Layer blob digests, bottom first, as listed by the manifest.
  std::vector<std::string> layer_digests;
  // Uncompressed layer digests and chain ids, bottom first.
  std::vector<std::string> diff_ids;
  std::vector<std::string> chain_ids;
  // Snapshot directories (<root>/snapshots/<n>/fs), bottom first, one per chain id.
  std::vector<std::string> snapshot_dirs;
  // Nanoseconds since the epoch when the image was last pulled.
  int64_t pulled_at = 0;

  // The unpacked layers, bottom layer first. NOTE: overlayfs wants its lowerdir list top layer
  // first, so reverse this list when building the mount option.
  std::vector<std::string> LayerDirs() const { return snapshot_dirs; }

  // Every blob the image uses: index (if any), manifest, config and layers.
  std::vector<std::string> BlobDigests() const;
};

nlohmann::json ImageRecordToJson(const ImageRecord& record);

// Parses a record; a missing or mistyped field is InvalidArgument naming `what` and the field.
absl::StatusOr<ImageRecord> ImageRecordFromJson(const nlohmann::json& value, std::string_view what);

}  // namespace berth::image
