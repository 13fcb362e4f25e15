#include "image/platform.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

Descriptor Entry(std::string digest_char, std::string os, std::string arch,
                 std::string variant = "") {
  Descriptor descriptor;
  descriptor.media_type = "application/vnd.oci.image.manifest.v1+json";
  descriptor.digest = "sha256:" + std::string(64, digest_char[0]);
  descriptor.size = 100;
  descriptor.platform = Platform{os, arch, variant};
  return descriptor;
}

TEST(SelectPlatform, PicksLinuxAmd64) {
  std::vector<Descriptor> list = {Entry("a", "linux", "arm64", "v8"), Entry("b", "linux", "amd64"),
                                  Entry("c", "windows", "amd64")};
  auto chosen = SelectPlatform(list, {"linux", "amd64", ""}, "busybox");
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  EXPECT_EQ(chosen->digest, list[1].digest);
}

TEST(SelectPlatform, NormalisesAliases) {
  std::vector<Descriptor> list = {Entry("a", "Linux", "x86_64")};
  auto chosen = SelectPlatform(list, {"linux", "amd64", ""}, "busybox");
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  EXPECT_EQ(chosen->digest, list[0].digest);
}

TEST(SelectPlatform, VariantPreference) {
  std::vector<Descriptor> list = {Entry("a", "linux", "arm", "v6"), Entry("b", "linux", "arm"),
                                  Entry("c", "linux", "arm", "v7")};
  auto exact = SelectPlatform(list, {"linux", "arm", "v7"}, "x");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->digest, list[2].digest);

  auto plain = SelectPlatform(list, {"linux", "arm", ""}, "x");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->digest, list[1].digest);

  auto arm64 = SelectPlatform({Entry("d", "linux", "arm64", "v8")}, {"linux", "aarch64", ""}, "x");
  ASSERT_TRUE(arm64.ok());
}

TEST(SelectPlatform, SkipsEntriesWithoutPlatform) {
  Descriptor attestation = Entry("a", "", "");
  attestation.platform.reset();
  std::vector<Descriptor> list = {attestation, Entry("b", "linux", "amd64")};
  auto chosen = SelectPlatform(list, HostPlatform(), "x");
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->digest, list[1].digest);
}

TEST(SelectPlatform, NoMatchListsPlatforms) {
  std::vector<Descriptor> list = {Entry("a", "linux", "arm64"), Entry("b", "linux", "arm", "v7")};
  auto chosen = SelectPlatform(list, {"linux", "amd64", ""}, "127.0.0.1:5000/multi:latest");
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.status().code(), absl::StatusCode::kNotFound);
  std::string message(chosen.status().message());
  EXPECT_NE(message.find("127.0.0.1:5000/multi:latest"), std::string::npos) << message;
  EXPECT_NE(message.find("linux/amd64"), std::string::npos) << message;
  EXPECT_NE(message.find("linux/arm64, linux/arm/v7"), std::string::npos) << message;
}

TEST(Platform, HostIsLinux) {
  EXPECT_EQ(HostPlatform().os, "linux");
  EXPECT_EQ(PlatformString({"linux", "arm", "v7"}), "linux/arm/v7");
  EXPECT_EQ(PlatformString(NormalizePlatform({"linux", "armhf", ""})), "linux/arm/v7");
}

}  // namespace
}  // namespace berth::image
