// Image archives for import tests, made from the in-memory test images of
// support/test_image.h: an OCI image layout (oci-archive) and a `docker save` layout, written as
// tar files with libarchive.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {

// One tar entry: a regular file, or a symlink when `link_target` is set.
struct ArchiveEntry {
  std::string path;
  std::string data;
  std::string link_target;
};

// Writes `entries` in order as a tar file at `path`, gzip-compressed as a whole if `gzip`.
absl::Status WriteTar(const std::string& path, const std::vector<ArchiveEntry>& entries,
                      bool gzip = false);

// The annotations that name an image in index.json.
struct OciName {
  std::string containerd_name;  // io.containerd.image.name; empty: left out
  std::string ref_name;         // org.opencontainers.image.ref.name; empty: left out
};

// oci-layout, index.json with one entry per name (all pointing at `top`, the manifest or an
// index) and blobs/sha256/<hex> for every blob of `blobs`.
std::vector<ArchiveEntry> OciLayout(const TestBlob& top, const std::vector<OciName>& names,
                                    const std::vector<TestBlob>& blobs);

// The blobs of an image: manifest, config and layers.
std::vector<TestBlob> ImageBlobs(const TestImage& image);

// How a docker save archive lays out its files.
enum class DockerLayout {
  kLegacyDirs,  // <hex>.json config, <n>/layer.tar, <n>/VERSION, <n>/json (Docker before 25)
  kBlobs,       // blobs/sha256/<hex> for config and layers (Docker 25 and later)
};

// manifest.json naming `repo_tags`, the config and the layers of `image`. With kLegacyDirs a
// layer whose blob appeared before gets a symlink to the earlier layer.tar, as Docker writes it.
std::vector<ArchiveEntry> DockerSave(const TestImage& image,
                                     const std::vector<std::string>& repo_tags,
                                     DockerLayout layout);

}  // namespace berth::e2e
