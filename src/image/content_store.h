// Verified blobs on disk: <root>/blobs/sha256/<hex>. A blob is written to <root>/ingest/ first
// and renamed into place only after its digest and size matched, so every file under blobs/ has
// exactly the content its name promises. Thread-safe: concurrent writers of the same blob each
// use their own temporary file, and the rename makes one of them win whole.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/fd.h"
#include "image/digest.h"

namespace berth::image {

class ContentStore {
 public:
  // `root` is the content directory, e.g. <store root>/content.
  explicit ContentStore(std::string root);

  // Creates the directories and deletes what interrupted writes left in ingest/.
  absl::Status Init();

  // Path of a blob, whether or not it is present.
  std::string BlobPath(std::string_view digest) const;
  bool Has(std::string_view digest) const;

  // Reads a whole blob; a blob larger than `max_bytes` is FailedPrecondition, a missing one
  // NotFound.
  absl::StatusOr<std::string> Read(std::string_view digest, int64_t max_bytes) const;

  // Writes one blob from a stream. Feed it with Write(), then Commit(). Dropping a Writer
  // without Commit() deletes its temporary file.
  class Writer {
   public:
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Appends a chunk; fails as soon as the stream is longer than the expected size.
    absl::Status Write(std::string_view chunk);

    // Checks digest and size (DataLoss naming the blob, expected and actual digest), fsyncs and
    // renames the file into blobs/.
    absl::Status Commit();

   private:
    friend class ContentStore;
    Writer(std::string temp_path, std::string final_path, UniqueFd fd, DigestVerifier verifier);

    std::string temp_path_;
    std::string final_path_;
    UniqueFd fd_;
    DigestVerifier verifier_;
    bool committed_ = false;
  };

  // Starts writing the blob `digest` of `size` bytes (< 0: unknown). `what` names the blob in
  // errors, e.g. "layer sha256:... of docker.io/library/busybox:latest".
  absl::StatusOr<std::unique_ptr<Writer>> NewWriter(std::string_view digest, int64_t size,
                                                    std::string what);

  // Verifies and stores a blob held in memory.
  absl::Status Put(std::string_view digest, std::string_view data, std::string what);

  // Deletes a blob. A missing blob is success.
  absl::Status Delete(std::string_view digest);

  // Digests of every stored blob.
  absl::StatusOr<std::vector<std::string>> List() const;

 private:
  std::string blobs_dir_;
  std::string ingest_dir_;
};

}  // namespace berth::image
