// Media types of the OCI image spec and of Docker's schema 2, grouped by their role in a pull.
#pragma once

#include <string_view>

namespace berth::image::media {

// Top-level documents a reference can resolve to.
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// Image configs.
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";

// Layers.
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
// Not in Docker's schema 2 text, but written by some image builders for uncompressed layers.
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
// Layers that registries may not serve: their bytes are fetched from the URLs the descriptor
// lists. Berth rejects them.
inline constexpr std::string_view kOciNondistributablePrefix =
    "application/vnd.oci.image.layer.nondistributable.";

// The Accept header of a manifest request: every top-level type Berth can read.
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

inline bool IsIndex(std::string_view type) {
  return type == kOciIndex || type == kDockerManifestList;
}

inline bool IsManifest(std::string_view type) {
  return type == kOciManifest || type == kDockerManifest;
}

inline bool IsSchema1(std::string_view type) {
  return type == kDockerSchema1 || type == kDockerSchema1Signed;
}

inline bool IsConfig(std::string_view type) {
  return type == kOciConfig || type == kDockerConfig;
}

// The layer types Berth unpacks: tar, plain or compressed with gzip or zstd.
inline bool IsLayer(std::string_view type) {
  return type == kOciLayer || type == kOciLayerGzip || type == kOciLayerZstd ||
         type == kDockerLayerGzip || type == kDockerLayer;
}

// Layers whose bytes live at foreign URLs rather than in the registry.
inline bool IsForeignLayer(std::string_view type) {
  return type == kDockerForeignLayerGzip || type.starts_with(kOciNondistributablePrefix);
}

}  // namespace berth::image::media
