// Progress of one blob in a pull, reported through PullOptions::on_progress. Reports are
// thinned out to one per kProgressStep bytes, so a fast download does not flood the caller.
#pragma once

#include <cstdint>
#include <string>

#include "image/pull_options.h"

namespace berth::image {

// Bytes between two reports of the same download.
inline constexpr uint64_t kProgressStep = 512 << 10;

// Used by one thread at a time; different blobs report from different threads.
class BlobProgress {
 public:
  // `kind` is "manifest", "config" or "layer"; `total` the size the manifest gives.
  BlobProgress(const PullOptions& options, std::string digest, std::string kind, uint64_t total);

  // Counts `bytes` more received and reports when a step or the total is reached.
  void Add(uint64_t bytes);

  // Reports the blob finished: downloaded, verified and (for layers) unpacked. `reused` is true
  // when the blob or snapshot was present before, so nothing was fetched.
  void Done(bool reused);

 private:
  void Report();

  const PullOptions& options_;
  PullProgress progress_;
  uint64_t reported_ = 0;  // `downloaded` at the last report
};

}  // namespace berth::image
