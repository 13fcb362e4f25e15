#include "image/digest.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

// sha256("hello") and sha256("").
const std::string kHello = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const std::string kEmpty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Sha256, KnownValues) {
  EXPECT_EQ(Sha256Digest("hello"), kHello);
  EXPECT_EQ(Sha256Digest(""), kEmpty);
  Sha256 streamed;
  streamed.Update("he");
  streamed.Update("llo");
  EXPECT_EQ(streamed.Finish(), kHello);
}

TEST(ValidateDigest, AcceptsAndRejects) {
  EXPECT_TRUE(ValidateDigest(kHello).ok());
  EXPECT_FALSE(ValidateDigest("2cf24dba").ok());
  EXPECT_FALSE(ValidateDigest("sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824").ok());
  EXPECT_FALSE(ValidateDigest("sha512:" + std::string(128, 'a')).ok());
  EXPECT_FALSE(ValidateDigest("sha256:" + std::string(63, 'a')).ok());
  EXPECT_EQ(DigestHex(kHello), kHello.substr(7));
}

TEST(DigestVerifier, MatchingStream) {
  DigestVerifier verifier("blob x", kHello, 5);
  EXPECT_TRUE(verifier.Update("hel").ok());
  EXPECT_TRUE(verifier.Update("lo").ok());
  EXPECT_TRUE(verifier.Finish().ok());
  EXPECT_EQ(verifier.bytes(), 5);
}

TEST(DigestVerifier, MismatchNamesBothDigests) {
  DigestVerifier verifier("layer sha256:abc of test", kHello, 5);
  EXPECT_TRUE(verifier.Update("hellO").ok());
  absl::Status status = verifier.Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  std::string message(status.message());
  EXPECT_NE(message.find("layer sha256:abc of test"), std::string::npos) << message;
  EXPECT_NE(message.find("expected " + kHello), std::string::npos) << message;
  EXPECT_NE(message.find("got " + Sha256Digest("hellO")), std::string::npos) << message;
}

TEST(DigestVerifier, StopsAtOversizedStream) {
  DigestVerifier verifier("blob", kHello, 5);
  EXPECT_TRUE(verifier.Update("hello").ok());
  absl::Status status = verifier.Update("!");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
}

TEST(DigestVerifier, ShortStreamFails) {
  DigestVerifier verifier("blob", kHello, 6);
  EXPECT_TRUE(verifier.Update("hello").ok());
  EXPECT_EQ(verifier.Finish().code(), absl::StatusCode::kDataLoss);
}

TEST(DigestVerifier, UnknownSizeChecksDigestOnly) {
  DigestVerifier verifier("blob", kHello, -1);
  EXPECT_TRUE(verifier.Update("hello").ok());
  EXPECT_TRUE(verifier.Finish().ok());
}

}  // namespace
}  // namespace berth::image
