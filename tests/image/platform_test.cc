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

TEST(SelectPlatform, Arm64DefaultVariantIsV8) {
  std::vector<Descriptor> list = {Entry("a", "linux", "arm", "v7"),
                                  Entry("b", "linux", "arm64", "v8")};
  for (const Platform& want : {Platform{"linux", "arm64", ""}, Platform{"linux", "arm64", "v8"}}) {
    auto chosen = SelectPlatform(list, want, "x");
    ASSERT_TRUE(chosen.ok()) << chosen.status();
    EXPECT_EQ(chosen->digest, list[1].digest);
  }
  // A plain v8 host cannot run v8.2 code.
  auto newer = SelectPlatform({Entry("c", "linux", "arm64", "v8.2")}, {"linux", "arm64", ""}, "x");
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kNotFound);
}

TEST(SelectPlatform, ArmPrefersExactThenNearestOlder) {
  std::vector<Descriptor> list = {Entry("a", "linux", "arm", "v5"), Entry("b", "linux", "arm", "v6"),
                                  Entry("c", "linux", "arm", "v8")};
  auto v7 = SelectPlatform(list, {"linux", "arm", "v7"}, "x");
  ASSERT_TRUE(v7.ok()) << v7.status();
  EXPECT_EQ(v7->digest, list[1].digest);  // v8 is too new, v6 is nearer than v5

  auto v8 = SelectPlatform(list, {"linux", "arm", "v8"}, "x");
  ASSERT_TRUE(v8.ok());
  EXPECT_EQ(v8->digest, list[2].digest);

  // Without a variant, arm means v7: it runs v6 but not v8.
  auto plain = SelectPlatform(list, {"linux", "arm", ""}, "x");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->digest, list[1].digest);

  auto v5 = SelectPlatform({list[1], list[2]}, {"linux", "arm", "v5"}, "x");
  EXPECT_EQ(v5.status().code(), absl::StatusCode::kNotFound);
}

TEST(SelectPlatform, Amd64MicroarchitectureLevels) {
  std::vector<Descriptor> list = {Entry("a", "linux", "amd64"), Entry("b", "linux", "amd64", "v3"),
                                  Entry("c", "linux", "amd64", "v2")};
  auto v4 = SelectPlatform(list, {"linux", "amd64", "v4"}, "x");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->digest, list[1].digest);

  auto v2 = SelectPlatform(list, {"linux", "amd64", "v2"}, "x");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->digest, list[2].digest);

  // A baseline host takes the entry without a variant and never a newer level.
  auto baseline = SelectPlatform(list, {"linux", "amd64", ""}, "x");
  ASSERT_TRUE(baseline.ok());
  EXPECT_EQ(baseline->digest, list[0].digest);
  auto v1 = SelectPlatform({list[1], list[2], Entry("d", "linux", "amd64", "v1")},
                           {"linux", "amd64", ""}, "x");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->digest, std::string("sha256:") + std::string(64, 'd'));
  EXPECT_EQ(SelectPlatform({list[1]}, {"linux", "amd64", "v2"}, "x").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(PlatformMatchScore, Rules) {
  EXPECT_EQ(PlatformMatchScore({"linux", "amd64", ""}, {"windows", "amd64", ""}), 0);
  EXPECT_EQ(PlatformMatchScore({"linux", "amd64", ""}, {"linux", "arm64", ""}), 0);
  // Unknown architectures and variants match only themselves.
  EXPECT_GT(PlatformMatchScore({"linux", "riscv64", ""}, {"linux", "riscv64", ""}), 0);
  EXPECT_EQ(PlatformMatchScore({"linux", "riscv64", ""}, {"linux", "riscv64", "rva22"}), 0);
  EXPECT_EQ(PlatformMatchScore({"linux", "arm", "v7"}, {"linux", "arm", "v7a"}), 0);
  // The spelling of the variant only breaks ties.
  EXPECT_GT(PlatformMatchScore({"linux", "arm", "v7"}, {"linux", "arm", "v7"}),
            PlatformMatchScore({"linux", "arm", "v7"}, {"linux", "arm", ""}));
  EXPECT_GT(PlatformMatchScore({"linux", "arm", "v7"}, {"linux", "arm", ""}),
            PlatformMatchScore({"linux", "arm", "v7"}, {"linux", "arm", "v6"}));
  EXPECT_GT(PlatformMatchScore({"linux", "amd64", "v3"}, {"linux", "amd64", ""}), 0);
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
#if defined(__x86_64__)
  EXPECT_EQ(HostPlatform().architecture, "amd64");
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v3")) {
    EXPECT_GT(PlatformMatchScore(HostPlatform(), {"linux", "amd64", "v3"}), 0);
  }
#endif
  EXPECT_EQ(PlatformString({"linux", "arm", "v7"}), "linux/arm/v7");
  EXPECT_EQ(PlatformString(NormalizePlatform({"linux", "armhf", ""})), "linux/arm/v7");
}

}  // namespace
}  // namespace berth::image
