// Image formats against a real docker-registry: a multi-arch index with variants, zstd and
// uncompressed layers, the layer-count bound, and what happens to layer blobs after the unpack.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/image_store_fixture.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "image/digest.h"
#include "image/image_store.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/platform.h"

namespace berth::image {
namespace {

using e2e::IndexEntry;
using e2e::LayerBuilder;
using e2e::TestBlob;
using e2e::TestImage;
using e2e::TestImageConfig;
using e2e::TestLayer;

la_ssize_t AppendToString(struct archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// Compresses `data` into one zstd frame with libarchive's raw writer.
std::string Zstd(const std::string& data) {
  std::string out;
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_write_new(),
                                                              archive_write_free);
  archive_write_set_format_raw(a.get());
  EXPECT_EQ(archive_write_add_filter_zstd(a.get()), ARCHIVE_OK) << archive_error_string(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  EXPECT_EQ(archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr), ARCHIVE_OK);
  std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> entry(
      archive_entry_new(), archive_entry_free);
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
  EXPECT_EQ(archive_write_header(a.get(), entry.get()), ARCHIVE_OK);
  EXPECT_EQ(archive_write_data(a.get(), data.data(), data.size()),
            static_cast<la_ssize_t>(data.size()));
  EXPECT_EQ(archive_write_close(a.get()), ARCHIVE_OK);
  return out;
}

// The same layer as `builder` makes, compressed with zstd.
TestLayer ZstdLayer(const LayerBuilder& builder) {
  auto plain = builder.Build(/*gzip=*/false);
  EXPECT_TRUE(plain.ok()) << plain.status();
  TestLayer layer;
  layer.diff_id = plain->diff_id;
  layer.blob.media_type = std::string(media::kOciLayerZstd);
  layer.blob.data = Zstd(plain->blob.data);
  layer.blob.digest = Sha256Digest(layer.blob.data);
  return layer;
}

class ImageFormatsTest : public e2e::ImageStoreTest {
 protected:
  std::string BlobFile(const std::string& digest) const {
    return JoinPath(root_, "content/blobs/sha256/" + DigestHex(digest));
  }

  // A busybox image whose Cmd names `name`, so each index entry has its own image id.
  TestImage Named(const std::string& name, const std::string& arch, const std::string& variant) {
    TestImageConfig config;
    config.cmd = {"echo", name};
    config.architecture = arch;
    config.variant = variant;
    auto image = e2e::BusyboxImage(config);
    EXPECT_TRUE(image.ok()) << image.status();
    return *image;
  }
};

TEST_F(ImageFormatsTest, MultiArchIndexPicksHostVariant) {
  TestImage arm64 = Named("arm64", "arm64", "v8");
  TestImage arm = Named("arm", "arm", "v7");
  TestImage baseline = Named("amd64", "amd64", "");
  TestImage v2 = Named("amd64-v2", "amd64", "v2");
  TestImage future = Named("amd64-v9", "amd64", "v9");
  TestImage s390x = Named("s390x", "s390x", "");
  std::vector<IndexEntry> entries = {
      {arm64.manifest, "linux", "arm64", "v8"}, {arm.manifest, "linux", "arm", "v7"},
      {future.manifest, "linux", "amd64", "v9"}, {baseline.manifest, "linux", "amd64", ""},
      {v2.manifest, "linux", "amd64", "v2"},     {s390x.manifest, "linux", "s390x", ""}};
  for (const TestImage* image : {&arm64, &arm, &baseline, &v2, &future, &s390x}) {
    ASSERT_TRUE(registry_->PushImage("multi", image->manifest.digest, *image).ok());
  }
  TestBlob index = e2e::BuildIndex(entries);
  ASSERT_TRUE(registry_->PushManifest("multi", "latest", index).ok());

  auto record = store_->Pull(Ref("multi"));
  ASSERT_TRUE(record.ok()) << record.status();
  // amd64 hosts of level v2 or newer take the v2 build; older ones the baseline. Never v9.
  Platform host = HostPlatform();
  const TestImage& expected = (host.architecture == "amd64" && !host.variant.empty()) ? v2
                              : host.architecture == "arm64"                          ? arm64
                                                                                      : baseline;
  EXPECT_EQ(record->id, expected.config.digest) << PlatformString(host);
  EXPECT_EQ(record->manifest_digest, expected.manifest.digest);
  EXPECT_EQ(record->index_digest, index.digest);
  EXPECT_EQ(record->repo_digests, std::vector<std::string>{Ref("multi@" + index.digest)});

  // An index offering only other variants of other architectures is NotFound, naming them.
  TestBlob foreign = e2e::BuildIndex({entries[1], entries[2], entries[5]});
  ASSERT_TRUE(registry_->PushManifest("multi", "foreign", foreign).ok());
  auto rejected = store_->Pull(Ref("multi:foreign"));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kNotFound) << rejected.status();
  std::string message(rejected.status().message());
  EXPECT_NE(message.find("linux/arm/v7, linux/amd64/v9, linux/s390x"), std::string::npos)
      << message;
}

TEST_F(ImageFormatsTest, PullsZstdAndUncompressedLayers) {
  auto base = e2e::BusyboxLayer();
  ASSERT_TRUE(base.ok()) << base.status();
  LayerBuilder zstd_builder;
  zstd_builder.Dir("etc").File("etc/zstd.txt", "compressed with zstd\n", 0640, 7, 8);
  LayerBuilder plain_builder;
  plain_builder.Dir("srv").File("srv/plain.txt", "not compressed\n");
  TestLayer zstd = ZstdLayer(zstd_builder);
  auto plain = plain_builder.Build(/*gzip=*/false);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(zstd.blob.data.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));  // zstd magic

  auto image = e2e::BuildImage({*base, zstd, *plain}, {});
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("formats", "latest", *image).ok());

  auto record = store_->Pull(Ref("formats"));
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->LayerDirs().size(), 3u);
  EXPECT_EQ(record->diff_ids[1], zstd.diff_id);
  EXPECT_EQ(*ReadFile(JoinPath(record->LayerDirs()[1], "etc/zstd.txt")), "compressed with zstd\n");
  struct stat st {};
  ASSERT_EQ(::stat(JoinPath(record->LayerDirs()[1], "etc/zstd.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_EQ(st.st_gid, 8u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(*ReadFile(JoinPath(record->LayerDirs()[2], "srv/plain.txt")), "not compressed\n");

  // No layer blob stays behind; the manifest and the config do.
  for (const TestLayer& layer : image->layers) EXPECT_FALSE(PathExists(BlobFile(layer.blob.digest)));
  EXPECT_TRUE(PathExists(BlobFile(image->manifest.digest)));
  EXPECT_TRUE(PathExists(BlobFile(image->config.digest)));
}

TEST_F(ImageFormatsTest, CorruptZstdLayerIsDataLoss) {
  LayerBuilder builder;
  builder.File("data.txt", std::string(4096, 'z'));
  TestLayer zstd = ZstdLayer(builder);
  auto image = e2e::BuildImage({zstd}, {});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(registry_->PushImage("broken", "latest", *image).ok());
  std::string corrupted = zstd.blob.data;
  corrupted[corrupted.size() / 2] ^= 0x21;
  ASSERT_TRUE(WriteFile(registry_->BlobDataPath(zstd.blob.digest), corrupted).ok());

  auto record = store_->Pull(Ref("broken"));
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss) << record.status();
  EXPECT_NE(std::string(record.status().message()).find("expected " + zstd.blob.digest),
            std::string::npos)
      << record.status();
  EXPECT_TRUE(store_->List().empty());
}

TEST_F(ImageFormatsTest, RejectsTooManyLayers) {
  LayerBuilder builder;
  builder.File("one", "1");
  auto layer = builder.Build();
  ASSERT_TRUE(layer.ok());
  std::vector<TestLayer> layers(kMaxLayers + 1, *layer);
  auto image = e2e::BuildImage(layers, {});
  ASSERT_TRUE(image.ok());
  // The same blob 129 times: push it once.
  ASSERT_TRUE(registry_->PushBlob("tall", image->config).ok());
  ASSERT_TRUE(registry_->PushBlob("tall", layer->blob).ok());
  ASSERT_TRUE(registry_->PushManifest("tall", "latest", image->manifest).ok());

  auto record = store_->Pull(Ref("tall"));
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kFailedPrecondition) << record.status();
  std::string message(record.status().message());
  EXPECT_NE(message.find("129 layers"), std::string::npos) << message;
  EXPECT_NE(message.find("limit of 128"), std::string::npos) << message;
}

TEST_F(ImageFormatsTest, KeepLayerBlobsStoresThem) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("busybox", "latest", *image).ok());

  store_.reset();
  ImageStoreOptions options;
  options.root = root_;
  options.keep_layer_blobs = true;
  auto store = ImageStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);

  auto record = store_->Pull(Ref("busybox"));
  ASSERT_TRUE(record.ok()) << record.status();
  const TestBlob& blob = image->layers[0].blob;
  auto kept = ReadFile(BlobFile(blob.digest));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, blob.data);
}

}  // namespace
}  // namespace berth::image
