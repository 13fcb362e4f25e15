// Content digests as OCI writes them ("sha256:<64 lowercase hex>"), and streaming SHA-256 so a
// blob is checked while it is downloaded or unpacked, never after the fact.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace berth::image {

// The only algorithm Berth accepts today. Other algorithms (sha512) fail validation.
inline constexpr std::string_view kSha256Prefix = "sha256:";

// Checks that `digest` is "sha256:" followed by exactly 64 lowercase hex digits.
// On failure returns InvalidArgument naming the digest and what is wrong.
absl::Status ValidateDigest(std::string_view digest);

// Returns the hex part of a valid digest ("sha256:ab..." -> "ab...").
std::string DigestHex(std::string_view digest);

// Returns "sha256:<hex>" of `data`.
std::string Sha256Digest(std::string_view data);

// Incremental SHA-256 of one stream. Not copyable.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }

  // Returns "sha256:<hex>" of everything passed to Update. Call once.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Checks a stream against the digest and size a descriptor promised. `what` names the blob in
// errors (e.g. "layer sha256:ab..." or "config of docker.io/library/busybox:latest").
class DigestVerifier {
 public:
  // `expected_size` < 0 means the size is unknown and only the digest is checked.
  DigestVerifier(std::string what, std::string expected_digest, int64_t expected_size);

  // Feeds the next chunk. Fails with DataLoss as soon as more bytes arrive than the expected
  // size, so an endless stream cannot fill the disk.
  absl::Status Update(std::string_view chunk);

  // Fails with DataLoss naming the blob, the expected and the actual digest (or size) when the
  // stream does not match. Call once, after the last chunk.
  absl::Status Finish();

  int64_t bytes() const { return bytes_; }

 private:
  std::string what_;
  std::string expected_digest_;
  int64_t expected_size_;
  int64_t bytes_ = 0;
  Sha256 hash_;
};

}  // namespace berth::image
