// One layer of a pull, from registry to snapshot. A layer whose snapshot exists is reused. A
// layer whose blob is in the content store is unpacked from it. Any other layer streams from
// the registry through a pipe into the unpacker, verified on the way. The compressed blob is
// stored only when the pull keeps layer blobs.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "image/descriptor.h"
#include "image/pull_context.h"
#include "image/reference.h"
#include "image/snapshot_store.h"

namespace berth::image {

// A layer to make present: its blob, its uncompressed digest, its chain id and the chain id of
// the layer below (empty for the bottom layer).
struct LayerTask {
  Descriptor blob;
  std::string diff_id;
  std::string chain_id;
  std::string parent;
};

// Tells the layers of one pull when to stop early: the caller cancelled, or another layer failed.
// Thread-safe.
class PullStop {
 public:
  explicit PullStop(const PullOptions& options) : options_(options) {}

  // Marks the pull failed, so the other layers stop at their next check.
  void Fail() { failed_ = true; }

  // Cancelled when the caller cancelled the pull of `image`, Aborted when another layer failed,
  // OK otherwise.
  absl::Status Check(std::string_view image) const;

 private:
  const PullOptions& options_;
  std::atomic<bool> failed_{false};
};

// Returns the snapshot of `task`, creating it when it is missing. Concurrent calls for the same
// chain id, from this pull or another, download and unpack it once. The other calls wait for
// that result, and try again themselves when it failed. A snapshot is published only when both
// the blob's digest and the diff id matched. `stop` is checked between chunks.
// NOTE: downloads are shared per chain id. The same blob on top of different layers (another
// chain id) is downloaded once for each.
// Errors: those of RegistryClient::FetchBlob and UnpackLayer; DataLoss for a digest or size
// mismatch (naming the layer, expected and actual digest); Cancelled or Aborted from `stop`.
absl::StatusOr<Snapshot> EnsureLayer(PullContext& context, const Reference& ref,
                                     const LayerTask& task, const PullStop& stop);

}  // namespace berth::image
