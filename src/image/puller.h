// The steps of one pull: resolve the reference to a manifest (through an index when there is
// one), fetch and verify the config and the layers into the content store, and unpack each
// layer into its snapshot. ImageStore::Pull runs this and then records the result.
#pragma once

#include "absl/status/statusor.h"
#include "image/content_store.h"
#include "image/descriptor.h"
#include "image/image_record.h"
#include "image/keyed_mutex.h"
#include "image/pull_options.h"
#include "image/reference.h"
#include "image/registry_client.h"
#include "image/snapshot_store.h"

namespace berth::image {

// The stores and client a pull uses. Every member is shared with other pulls and thread-safe.
struct PullContext {
  ContentStore& content;
  SnapshotStore& snapshots;
  RegistryClient& registry;
  KeyedMutex& blob_locks;  // one download per blob at a time
  Platform platform;       // the platform to pick from an index
  const PullOptions& options;
};

// Pulls `ref` and returns its record. repo_tags contains ref.TagRef() when the reference has a
// tag and no digest. A digest pins the content, so a tag next to it is not recorded.
// repo_digests contains the digest the reference resolved to. Blobs and snapshots already
// present are reused, not fetched again. On failure nothing partial is left, because blobs and
// snapshots are only renamed into place whole. Complete layers of a failed pull stay until the
// next garbage collection.
absl::StatusOr<ImageRecord> PullImage(PullContext& context, const Reference& ref);

}  // namespace berth::image
