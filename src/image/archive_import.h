// Loading images from archive files instead of a registry, as `kind load` and `ctr images
// import` do. Two layouts are read, each a tar file that may also be compressed as a whole:
//
//   OCI image layout (oci-archive)     oci-layout, index.json, blobs/sha256/<hex>
//                                      names from the annotations io.containerd.image.name or
//                                      org.opencontainers.image.ref.name of index.json entries
//   `docker save`                      manifest.json [{Config, RepoTags, Layers}], the config and
//                                      layer files it names (<hex>.json, <id>/layer.tar or
//                                      blobs/sha256/<hex>), layers plain or compressed tars
//
// When an archive has both index.json and manifest.json (Docker 25 and later write both),
// manifest.json is read. Every blob is verified: OCI blobs against the digest and size their
// descriptors give, docker-save configs against their file name, and every layer against the
// diff id of the config while it unpacks. Entries are looked up by name and never written by
// name, so an archive cannot place files anywhere. Names that are absolute or contain ".." are
// rejected all the same.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "image/content_store.h"
#include "image/descriptor.h"
#include "image/image_record.h"
#include "image/snapshot_store.h"

namespace berth::image {

// At most this many images and this many tar entries in one archive. Images have at most
// kMaxLayers layers and documents at most kMaxManifestBytes, as for pulls (manifest.h).
inline constexpr size_t kMaxArchiveImages = 1024;
inline constexpr size_t kMaxArchiveEntries = 100000;

struct ImportOptions {
  // The repository ("registry.example/app") given to images whose OCI ref.name annotation is a
  // bare tag ("1.0"), making "registry.example/app:1.0". Empty: such images get no name and
  // are known by id.
  std::string base_name;
  // Polled between archive entries and layers; returning true stops with Cancelled.
  std::function<bool()> cancelled;
};

// The stores an import writes into. Both are shared with pulls and thread-safe.
struct ImportContext {
  ContentStore& content;
  SnapshotStore& snapshots;
  Platform platform;  // the manifest to pick from a multi-platform index
  const ImportOptions& options;
  // Keep layer blobs in the content store after their unpack. When false, they are deleted once
  // every image of the archive is unpacked, as a pull does.
  bool keep_layer_blobs = false;
};

// Reads the archive at `archive_path`, stores its blobs, unpacks every layer into its snapshot
// (reusing snapshots already present) and returns one record per image, not yet committed.
// An image listed twice under different names comes back once, with all its names.
// Errors:
//   InvalidArgument     not a tar, neither layout, malformed JSON, bad names or entry paths
//   NotFound            a file the metadata names is missing from the archive, or an index
//                       has no manifest for `context.platform`
//   DataLoss            a blob's content does not match its digest or size, or a layer its
//                       diff id
//   FailedPrecondition  metadata over 4 MiB, too many layers, images or entries, unsupported
//                       media types, a docker save archive without manifest.json (Docker < 1.10)
//   Cancelled           options.cancelled returned true
absl::StatusOr<std::vector<ImageRecord>> ImportArchive(ImportContext& context,
                                                       const std::string& archive_path);

}  // namespace berth::image
