#include "image/digest.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"

namespace berth::image {
namespace {

constexpr size_t kSha256HexLength = 64;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

absl::Status ValidateDigest(std::string_view digest) {
  std::string text(digest);
  if (digest.substr(0, kSha256Prefix.size()) != kSha256Prefix) {
    if (digest.find(':') == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid digest \"", text, "\": missing \"sha256:\" prefix"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("invalid digest \"", text, "\": only sha256 is supported"));
  }
  std::string_view hex = digest.substr(kSha256Prefix.size());
  if (hex.size() != kSha256HexLength) {
    return absl::InvalidArgumentError(absl::StrCat("invalid digest \"", text, "\": expected ",
                                                   kSha256HexLength, " hex digits, got ",
                                                   hex.size()));
  }
  for (char c : hex) {
    if (!IsLowerHex(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid digest \"", text, "\": not lowercase hex"));
    }
  }
  return absl::OkStatus();
}

std::string DigestHex(std::string_view digest) {
  if (digest.substr(0, kSha256Prefix.size()) == kSha256Prefix) {
    digest.remove_prefix(kSha256Prefix.size());
  }
  return std::string(digest);
}

std::string Sha256Digest(std::string_view data) {
  Sha256 hash;
  hash.Update(data);
  return hash.Finish();
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() {
  if (impl_) EVP_MD_CTX_free(impl_->ctx);
}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t size) {
  if (size > 0) EVP_DigestUpdate(impl_->ctx, data, size);
}

std::string Sha256::Finish() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->ctx, raw, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string result(kSha256Prefix);
  for (unsigned int i = 0; i < length; ++i) {
    result += kHex[raw[i] >> 4];
    result += kHex[raw[i] & 0xf];
  }
  return result;
}

DigestVerifier::DigestVerifier(std::string what, std::string expected_digest,
                               int64_t expected_size)
    : what_(std::move(what)),
      expected_digest_(std::move(expected_digest)),
      expected_size_(expected_size) {}

absl::Status DigestVerifier::Update(std::string_view chunk) {
  bytes_ += static_cast<int64_t>(chunk.size());
  if (expected_size_ >= 0 && bytes_ > expected_size_) {
    return absl::DataLossError(absl::StrCat(what_, ": more data than the expected size of ",
                                            expected_size_, " bytes (digest ", expected_digest_,
                                            ")"));
  }
  hash_.Update(chunk);
  return absl::OkStatus();
}

absl::Status DigestVerifier::Finish() {
  std::string actual = hash_.Finish();
  if (actual != expected_digest_) {
    return absl::DataLossError(absl::StrCat(what_, ": digest mismatch: expected ",
                                            expected_digest_, ", got ", actual));
  }
  if (expected_size_ >= 0 && bytes_ != expected_size_) {
    return absl::DataLossError(absl::StrCat(what_, ": size mismatch: expected ", expected_size_,
                                            " bytes, got ", bytes_, " (digest ", expected_digest_,
                                            ")"));
  }
  return absl::OkStatus();
}

}  // namespace berth::image
