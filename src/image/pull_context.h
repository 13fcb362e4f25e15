// The state every step of one pull shares: the stores, the registry client, the platform to
// pick, the caller's options and the settings of the pipeline.
#pragma once

#include "image/content_store.h"
#include "image/descriptor.h"
#include "image/keyed_mutex.h"
#include "image/pull_options.h"
#include "image/registry_client.h"
#include "image/snapshot_store.h"

namespace berth::image {

// Layers fetched at the same time by one pull, unless the configuration sets another number.
inline constexpr int kDefaultMaxConcurrentDownloads = 3;

// The stores and client a pull uses. Every reference member is shared with other pulls and is
// thread-safe.
struct PullContext {
  ContentStore& content;
  SnapshotStore& snapshots;
  RegistryClient& registry;
  KeyedMutex& blob_locks;  // one download per blob at a time
  Platform platform;       // the platform to pick from an index
  const PullOptions& options;
  // Layers downloaded and unpacked at the same time; values below 1 count as 1.
  int max_concurrent_downloads = kDefaultMaxConcurrentDownloads;
  // Keep each compressed layer blob in the content store after its unpack. When false (the
  // default) a layer streams from the registry straight into its snapshot and no copy of the
  // blob is written.
  bool keep_layer_blobs = false;
};

}  // namespace berth::image
