#include "image/manifest.h"

#include <gtest/gtest.h>

#include "image/media_types.h"

namespace berth::image {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');

std::string ManifestJson(const std::string& layer_type) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kA +
         R"(","size":12},
    "layers":[{"mediaType":")" + layer_type + R"(","digest":")" + kB + R"(","size":34}]})";
}

TEST(DetectMediaType, FromDocumentHeaderOrShape) {
  EXPECT_EQ(*DetectMediaType("", ManifestJson(std::string(media::kOciLayerGzip)), "m"),
            media::kOciManifest);
  EXPECT_EQ(*DetectMediaType("application/vnd.docker.distribution.manifest.list.v2+json; x=y",
                             R"({"schemaVersion":2,"manifests":[]})", "m"),
            media::kDockerManifestList);
  EXPECT_EQ(*DetectMediaType("application/json", R"({"schemaVersion":2,"manifests":[]})", "m"),
            media::kOciIndex);
  EXPECT_EQ(*DetectMediaType("", R"({"schemaVersion":2,"config":{},"layers":[]})", "m"),
            media::kOciManifest);
}

TEST(DetectMediaType, RejectsSchema1) {
  auto type = DetectMediaType("application/vnd.docker.distribution.manifest.v1+prettyjws",
                              R"({"schemaVersion":1,"name":"x","fsLayers":[]})", "busybox");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(type.status().message()).find("schema 1"), std::string::npos);
}

TEST(DetectMediaType, RejectsUnknownType) {
  auto type = DetectMediaType("", R"({"schemaVersion":2,"mediaType":"application/x-thing"})",
                              "busybox");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(type.status().message()).find("application/x-thing"), std::string::npos);
}

TEST(ParseManifest, ReadsConfigAndLayers) {
  auto manifest = ParseManifest(ManifestJson(std::string(media::kDockerLayerGzip)), "m");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->config.digest, kA);
  EXPECT_EQ(manifest->config.size, 12);
  ASSERT_EQ(manifest->layers.size(), 1u);
  EXPECT_EQ(manifest->layers[0].digest, kB);
  EXPECT_EQ(manifest->layers[0].size, 34);
}

TEST(ParseManifest, RejectsZstdLayers) {
  auto manifest = ParseManifest(ManifestJson(std::string(media::kOciLayerZstd)), "m");
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(manifest.status().message()).find(kB), std::string::npos);
}

TEST(ParseManifest, RejectsBadDigestAndJson) {
  std::string bad = ManifestJson(std::string(media::kOciLayer));
  bad.replace(bad.find(kB), 10, "sha256:xyz");
  EXPECT_EQ(ParseManifest(bad, "m").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseManifest("{not json", "m").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseManifest("[]", "m").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseIndex, ReadsPlatforms) {
  std::string json = R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kA +
                     R"(","size":5,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kB +
                     R"(","size":6}]})";
  auto index = ParseIndex(json, "i");
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_EQ(index->manifests.size(), 2u);
  ASSERT_TRUE(index->manifests[0].platform.has_value());
  EXPECT_EQ(index->manifests[0].platform->variant, "v7");
  EXPECT_FALSE(index->manifests[1].platform.has_value());
}

}  // namespace
}  // namespace berth::image
