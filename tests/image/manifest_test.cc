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

TEST(ParseManifest, AcceptsEveryTarCompression) {
  for (std::string_view type : {media::kOciLayer, media::kOciLayerGzip, media::kOciLayerZstd,
                                media::kDockerLayerGzip, media::kDockerLayer}) {
    auto manifest = ParseManifest(ManifestJson(std::string(type)), "m");
    EXPECT_TRUE(manifest.ok()) << type << ": " << manifest.status();
  }
}

TEST(ParseManifest, RejectsForeignAndUnknownLayers) {
  for (std::string_view type : {media::kDockerForeignLayerGzip,
                                std::string_view("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
                                std::string_view("application/vnd.oci.image.layer.v1.tar+lz4"),
                                std::string_view("")}) {
    auto manifest = ParseManifest(ManifestJson(std::string(type)), "manifest m");
    ASSERT_FALSE(manifest.ok()) << type;
    EXPECT_EQ(manifest.status().code(), absl::StatusCode::kFailedPrecondition);
    std::string message(manifest.status().message());
    EXPECT_NE(message.find(kB), std::string::npos) << message;
    EXPECT_NE(message.find("manifest m"), std::string::npos) << message;
    EXPECT_NE(message.find("\"" + std::string(type) + "\""), std::string::npos) << message;
  }
}

TEST(ParseManifest, BoundsLayerCountAndConfigSize) {
  std::string layer = R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                      kB + R"(","size":34})";
  auto with_layers = [&](size_t count, int64_t config_size) {
    std::string layers;
    for (size_t i = 0; i < count; ++i) layers += (i == 0 ? "" : ",") + layer;
    return R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",
      "digest":")" + kA + R"(","size":)" + std::to_string(config_size) + R"(},"layers":[)" +
           layers + "]}";
  };
  EXPECT_TRUE(ParseManifest(with_layers(kMaxLayers, 10), "m").ok());
  auto tall = ParseManifest(with_layers(kMaxLayers + 1, 10), "m");
  ASSERT_FALSE(tall.ok());
  EXPECT_EQ(tall.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(tall.status().message()).find("limit of 128"), std::string::npos)
      << tall.status();

  auto big = ParseManifest(with_layers(1, kMaxManifestBytes + 1), "m");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(big.status().message()).find("4194304"), std::string::npos)
      << big.status();
}

TEST(ParseIndex, BoundsEntries) {
  std::string entry = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                      kA + R"(","size":5})";
  std::string entries;
  for (size_t i = 0; i <= kMaxIndexEntries; ++i) entries += (i == 0 ? "" : ",") + entry;
  auto index = ParseIndex(R"({"schemaVersion":2,"manifests":[)" + entries + "]}", "i");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kFailedPrecondition);
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
