#include "image/pull_progress.h"

namespace berth::image {

BlobProgress::BlobProgress(const PullOptions& options, std::string digest, std::string kind,
                           uint64_t total)
    : options_(options) {
  progress_.digest = std::move(digest);
  progress_.kind = std::move(kind);
  progress_.total = total;
}

void BlobProgress::Add(uint64_t bytes) {
  progress_.downloaded += bytes;
  if (progress_.downloaded - reported_ >= kProgressStep ||
      (progress_.downloaded >= progress_.total && reported_ < progress_.total)) {
    Report();
  }
}

void BlobProgress::Done(bool reused) {
  progress_.done = true;
  progress_.reused = reused;
  Report();
}

void BlobProgress::Report() {
  reported_ = progress_.downloaded;
  if (options_.on_progress) options_.on_progress(progress_);
}

}  // namespace berth::image
