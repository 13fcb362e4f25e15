// Berth's image service without Kubernetes types: pull images from registries, list, find and
// remove them, and report the disk they use. Everything lives under one root directory:
//
//   <root>/content/blobs/sha256/<hex>   verified blobs (indexes, manifests, configs, layers)
//   <root>/snapshots/<n>/fs             one unpacked layer each, keyed by chain id
//   <root>/images/<config hex>.json     one record per image (see ImageRecord)
//
// Thread-safe. Pulls run in parallel, also of the same image: blob downloads and layer unpacks
// are serialised per digest and per chain id, and records are merged under a lock. Removing an
// image deletes its record at once, then waits for running pulls and deletes every snapshot and
// blob that no image and no container (see Use) needs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "image/archive_import.h"
#include "image/content_store.h"
#include "image/image_record.h"
#include "image/keyed_mutex.h"
#include "image/pull_options.h"
#include "image/registry_client.h"
#include "image/snapshot_store.h"

namespace berth::image {

struct ImageStoreOptions {
  // Options with only `root` set and every other field at its default.
  static ImageStoreOptions AtRoot(std::string root) {
    ImageStoreOptions options;
    options.root = std::move(root);
    return options;
  }

  // Directory of all image data, e.g. /var/lib/berth. Created when missing.
  std::string root;
  // Registries pulled from over plain HTTP: "host" (any port) or "host:port". localhost and
  // 127.0.0.1 always are.
  std::vector<std::string> insecure_registries;
  // Folder of per-registry hosts.toml files (mirrors, TLS), containerd's certs.d layout, e.g.
  // /etc/berth/certs.d. Default "": no per-registry configuration.
  std::string registry_config_dir = {};
  // A registry transfer that moves no byte for this many seconds fails, naming the blob.
  // Default 300.
  int64_t pull_progress_timeout_seconds = kDefaultNoProgressSeconds;
  // Layers one pull downloads and unpacks at the same time. Default 3; values below 1 mean 1.
  int max_concurrent_downloads = 3;
  // Keep compressed layer blobs in the content store after their unpack. Default false: layers
  // stream into their snapshots and only manifests, configs and indexes are stored.
  bool keep_layer_blobs = false;
  // References of pinned images (the sandbox image): Remove refuses them and garbage
  // collection keeps them. Default: none.
  std::vector<std::string> pinned_images = {};
};

// Disk use of the image store, as CRI's ImageFsInfo reports it.
struct FsUsage {
  std::string mountpoint;    // the directory the figures are for
  uint64_t used_bytes = 0;   // bytes allocated under it; hardlinked files count once
  uint64_t inodes_used = 0;  // files, directories and links under it, the root included
  int64_t timestamp = 0;     // when measured, nanoseconds since the epoch
};

class ImageStore {
 public:
  // Creates the directories under `options.root`, deletes leftovers of interrupted pulls and
  // loads the image records. A record whose snapshots are gone is skipped with a warning (pull
  // the image again to repair it); an unreadable root is an error.
  static absl::StatusOr<std::unique_ptr<ImageStore>> Open(ImageStoreOptions options);

  // Pulls `reference` for this host's platform (linux/amd64 on x86-64) and returns its record.
  // Pulling an image that is present checks the registry again and only fetches what is new.
  // A tag that another image has moves to this one.
  // Errors:
  //   InvalidArgument     bad reference
  //   NotFound            no such image, or no manifest for this platform
  //   Unavailable         registry unreachable, HTTP 5xx or 429
  //   PermissionDenied    HTTP 401 or 403
  //   DataLoss            digest mismatch, naming the blob, expected and actual digest
  //   FailedPrecondition  schema 1, unknown media types, documents over 4 MiB, too many layers
  //   ResourceExhausted   disk full, naming the file; the blobs and snapshots nothing uses are
  //                       deleted before it returns
  // `options` carries credentials, cancellation (Cancelled) and a progress callback.
  absl::StatusOr<ImageRecord> Pull(const std::string& reference, const PullOptions& options = {});

  // Loads the images of the archive file at `archive_path`, an OCI image layout or a `docker
  // save` tarball (see archive_import.h for the formats and errors), and records them as a pull
  // would: a tag another image has moves to the imported one. Returns one record per image.
  absl::StatusOr<std::vector<ImageRecord>> Import(const std::string& archive_path,
                                                  const ImportOptions& options = {});

  // Every image, ordered by id.
  std::vector<ImageRecord> List() const;

  // Finds an image by, in this order: full id ("sha256:<hex>"), reference with tag
  // ("busybox" means docker.io/library/busybox:latest), reference with digest (the digest of
  // the index or of the manifest), or unique id prefix (with or without "sha256:").
  // NotFound when nothing matches; InvalidArgument when an id prefix matches several images.
  absl::StatusOr<ImageRecord> Find(const std::string& ref_or_id) const;

  // Removes a name or an image, as found by Find:
  //   - by id or id prefix: the image with all its tags and digests;
  //   - by "repository:tag": that tag only; the repository's digest references go with its
  //     last tag of that repository;
  //   - by "repository@digest": the image's digest references of that repository.
  // An image left without any tag or digest is removed. Every removal of an image then
  // deletes the snapshots and blobs that no image and no user (see Use) needs.
  // Errors: NotFound for an unknown image (callers that must be idempotent, like CRI's
  // RemoveImage, treat it as success); FailedPrecondition, with nothing changed, when the
  // removal would delete an image that a user holds, or remove a pinned name or image.
  absl::Status Remove(const std::string& ref_or_id);

  // Records that `user` (a container id) runs on the layers of image `image_id`. Until
  // Release(user), Remove refuses that image and garbage collection keeps its snapshots.
  // A user holds one image; calling Use again replaces it. NotFound if the image is gone, so
  // a creation that raced with a removal fails instead of mounting deleted layers.
  absl::Status Use(const std::string& user, const std::string& image_id);
  // Forgets `user`. Unknown users are ignored.
  void Release(const std::string& user);
  // Users of image `image_id`, sorted.
  std::vector<std::string> UsersOf(const std::string& image_id) const;

  // True when `record` is named by one of the pinned references.
  bool IsPinned(const ImageRecord& record) const;

  // The image's config blob as the registry served it; NotFound when it is not stored.
  absl::StatusOr<std::string> ConfigBlob(const ImageRecord& record) const;

  // Measures the image filesystem: records, content and snapshots under the root.
  absl::StatusOr<FsUsage> Usage() const;

  const std::string& root() const { return root_; }

 private:
  explicit ImageStore(ImageStoreOptions options, std::string root);

  absl::Status LoadRecords();
  std::string RecordPath(const std::string& id) const;
  // Merges a pulled image into the records, moves its tags away from other images, and writes
  // every changed record. Returns the merged record.
  absl::StatusOr<ImageRecord> Commit(ImageRecord pulled);
  // Takes every tag of `owner` away from the other records and writes those that changed.
  // Needs records_mutex_ held.
  absl::StatusOr<ImageRecord> MoveTagsTo(const ImageRecord& owner);
  // Find() with records_mutex_ held.
  absl::StatusOr<const ImageRecord*> FindLocked(const std::string& ref_or_id) const;
  // Deletes snapshots and blobs that no record and no user needs. Needs gc_mutex_ held
  // exclusively.
  absl::Status CollectGarbage();
  // Checks that Remove may delete `record` entirely. Needs records_mutex_ held.
  absl::Status CheckRemovable(const ImageRecord& record) const;
  // Deletes the record of `id` from disk and memory. Needs records_mutex_ held.
  absl::Status DeleteRecord(const std::string& id);
  // Removes the name `ref_or_id` matched on `record`, if it was a tag or digest. Returns true
  // when the record lost its last name and must go. Needs records_mutex_ held.
  absl::StatusOr<bool> RemoveName(const std::string& ref_or_id, ImageRecord& record);

  ImageStoreOptions options_;
  std::string root_;  // canonical: no symlinks
  ContentStore content_;
  SnapshotStore snapshots_;
  RegistryClient registry_;
  KeyedMutex blob_locks_;

  // Pulls hold it shared, Remove exclusively, so garbage collection never deletes what a
  // running pull has fetched but not recorded yet.
  std::shared_mutex gc_mutex_;
  mutable std::mutex records_mutex_;
  std::map<std::string, ImageRecord> records_;  // by id
  // Users holding an image (see Use): user -> image id, and the chain ids kept for them.
  struct Held {
    std::string image_id;
    std::vector<std::string> chain_ids;
  };
  std::map<std::string, Held> users_;  // guarded by records_mutex_
};

}  // namespace berth::image
