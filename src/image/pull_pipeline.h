// The layer stage of a pull: every layer of an image made present in its snapshot, several at
// once. Each snapshot contains only its own layer's files, so layers download and unpack in
// parallel and in any order. Chain ids, computed up front from the config's diff ids, still tie
// each snapshot to the stack below it.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "image/layer_fetch.h"
#include "image/pull_context.h"
#include "image/reference.h"
#include "image/snapshot_store.h"

namespace berth::image {

// Runs EnsureLayer for every task on at most context.max_concurrent_downloads threads (the
// calling one included), largest blob first so the longest download starts early. Returns the
// snapshots in the order of `tasks`. The first error stops the other layers at their next chunk
// and is returned; snapshots finished before it stay for the next pull to reuse.
absl::StatusOr<std::vector<Snapshot>> EnsureLayers(PullContext& context, const Reference& ref,
                                                   const std::vector<LayerTask>& tasks);

}  // namespace berth::image
