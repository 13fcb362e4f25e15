// ImageStore::Import on OCI image layouts and docker save archives built from the busybox test
// image: names, layouts, compression, verification and refusals. Needs root (unpacking keeps
// owners and makes whiteout devices).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/admin_test_archives.h"
#include "image/image_store.h"
#include "image/reference.h"

namespace berth::e2e {
namespace {

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const char* base = std::getenv("TMPDIR");
    temp_ = JoinPath(base && *base ? base : "/tmp", "berth-import-e2e-XXXXXX");
    ASSERT_NE(::mkdtemp(temp_.data()), nullptr);
    auto store =
        image::ImageStore::Open(image::ImageStoreOptions::AtRoot(JoinPath(temp_, "root")));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);

    absl::StatusOr<TestLayer> busybox = BusyboxLayer();
    ASSERT_TRUE(busybox.ok()) << busybox.status();
    busybox_ = *std::move(busybox);
  }

  void TearDown() override {
    store_.reset();
    if (!temp_.empty()) (void)RemoveAll(temp_);
  }

  // An image of the busybox layer and a small second layer, gzip or plain.
  TestImage TwoLayerImage(bool gzip, const std::string& message = "imported") {
    absl::StatusOr<TestLayer> top =
        LayerBuilder().Dir("etc").File("etc/message", message + "\n").Build(gzip);
    EXPECT_TRUE(top.ok()) << top.status();
    TestLayer bottom = busybox_;
    if (!gzip) {
      absl::StatusOr<TestLayer> plain = PlainBusybox();
      EXPECT_TRUE(plain.ok()) << plain.status();
      bottom = *plain;
    }
    absl::StatusOr<TestImage> image = BuildImage({bottom, *top}, TestImageConfig{});
    EXPECT_TRUE(image.ok()) << image.status();
    return *image;
  }

  absl::StatusOr<TestLayer> PlainBusybox() {
    if (!plain_busybox_.blob.data.empty()) return plain_busybox_;
    // The busybox layer without gzip: the same entries, rebuilt uncompressed.
    absl::StatusOr<TestLayer> layer = LayerBuilder()
                                          .Dir("bin")
                                          .HostFile("bin/busybox", kHostBusybox)
                                          .Symlink("bin/sh", "busybox")
                                          .Symlink("bin/cat", "busybox")
                                          .Dir("tmp", 01777)
                                          .Build(/*gzip=*/false);
    if (layer.ok()) plain_busybox_ = *layer;
    return layer;
  }

  std::string Write(const std::string& name, const std::vector<ArchiveEntry>& entries,
                    bool gzip = false) {
    std::string path = JoinPath(temp_, name);
    absl::Status written = WriteTar(path, entries, gzip);
    EXPECT_TRUE(written.ok()) << written;
    return path;
  }

  // Checks that `record` is image `image`, complete on disk, with its message file.
  void ExpectUnpacked(const image::ImageRecord& record, const TestImage& image,
                      const std::string& message = "imported") {
    EXPECT_EQ(record.id, image.config.digest);
    ASSERT_EQ(record.snapshot_dirs.size(), image.layers.size());
    EXPECT_TRUE(PathExists(JoinPath(record.snapshot_dirs[0], "bin/busybox")));
    auto text = ReadFile(JoinPath(record.snapshot_dirs.back(), "etc/message"));
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, message + "\n");
  }

  std::string temp_;
  std::unique_ptr<image::ImageStore> store_;
  TestLayer busybox_;
  TestLayer plain_busybox_;
};

TEST_F(ImportTest, OciArchiveWithContainerdName) {
  TestImage image = TwoLayerImage(/*gzip=*/true);
  std::string path = Write("oci.tar", OciLayout(image.manifest,
                                                {{"docker.io/library/imported:1.0", "1.0"}},
                                                ImageBlobs(image)));
  auto records = store_->Import(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  ExpectUnpacked(records->front(), image);
  EXPECT_EQ(records->front().repo_tags, std::vector<std::string>{"docker.io/library/imported:1.0"});
  EXPECT_EQ(records->front().repo_digests,
            std::vector<std::string>{"docker.io/library/imported@" + image.manifest.digest});
  EXPECT_EQ(records->front().manifest_digest, image.manifest.digest);

  // Found like a pulled image, and importing again changes nothing.
  auto found = store_->Find("imported:1.0");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id, image.config.digest);
  ASSERT_TRUE(store_->Import(path).ok());
  EXPECT_EQ(store_->List().size(), 1u);
}

TEST_F(ImportTest, OciBareTagUsesTheBaseName) {
  TestImage image = TwoLayerImage(/*gzip=*/true);
  std::string path =
      Write("oci.tar", OciLayout(image.manifest, {{"", "2.0"}}, ImageBlobs(image)));
  auto unnamed = store_->Import(path);
  ASSERT_TRUE(unnamed.ok()) << unnamed.status();
  EXPECT_TRUE(unnamed->front().repo_tags.empty());

  image::ImportOptions options;
  options.base_name = "example.com/team/app";
  auto named = store_->Import(path, options);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->front().repo_tags, std::vector<std::string>{"example.com/team/app:2.0"});
}

TEST_F(ImportTest, OciIndexPicksThisPlatform) {
  TestImage amd64 = TwoLayerImage(/*gzip=*/true, "amd64");
  TestImageConfig arm_config;
  arm_config.architecture = "arm64";
  absl::StatusOr<TestImage> arm64 = BuildImage({busybox_}, arm_config);
  ASSERT_TRUE(arm64.ok()) << arm64.status();
  TestBlob index = BuildIndex({{amd64.manifest, "linux", "amd64", ""},
                               {arm64->manifest, "linux", "arm64", "v8"}});
  // Only the index and the amd64 image are in the archive, as `--platform` exports write it.
  std::vector<TestBlob> blobs = ImageBlobs(amd64);
  blobs.push_back(index);
  std::string path = Write("multi.tar", OciLayout(index, {{"", "example.com/multi:1"}}, blobs),
                           /*gzip=*/true);
  auto records = store_->Import(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  ExpectUnpacked(records->front(), amd64, "amd64");
  EXPECT_EQ(records->front().index_digest, index.digest);
  EXPECT_EQ(records->front().repo_tags, std::vector<std::string>{"example.com/multi:1"});
}

TEST_F(ImportTest, DockerSaveLegacyFolders) {
  TestImage two = TwoLayerImage(/*gzip=*/false);
  // The top layer twice: the second layer.tar is a symlink to the first, as Docker writes it.
  absl::StatusOr<TestImage> image =
      BuildImage({two.layers[0], two.layers[1], two.layers[1]}, TestImageConfig{});
  ASSERT_TRUE(image.ok()) << image.status();
  std::string path = Write("docker.tar", DockerSave(*image, {"busybox:saved", "example.com/b:2"},
                                                    DockerLayout::kLegacyDirs));
  auto records = store_->Import(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  ExpectUnpacked(records->front(), *image);
  EXPECT_EQ(records->front().repo_tags,
            (std::vector<std::string>{"docker.io/library/busybox:saved", "example.com/b:2"}));
  EXPECT_TRUE(records->front().repo_digests.empty());
  auto found = store_->Find("example.com/b:2");
  ASSERT_TRUE(found.ok()) << found.status();
}

TEST_F(ImportTest, DockerSaveGzipEverywhere) {
  TestImage image = TwoLayerImage(/*gzip=*/true);
  std::string path = Write("docker.tar.gz", DockerSave(image, {"example.com/gz:1"},
                                                       DockerLayout::kBlobs),
                           /*gzip=*/true);
  auto records = store_->Import(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ExpectUnpacked(records->front(), image);
  EXPECT_EQ(records->front().repo_tags, std::vector<std::string>{"example.com/gz:1"});
}

TEST_F(ImportTest, ImportMovesATagFromAnotherImage) {
  TestImage first = TwoLayerImage(/*gzip=*/true, "first");
  TestImage second = TwoLayerImage(/*gzip=*/true, "second");
  for (const TestImage* image : {&first, &second}) {
    std::string path = Write("tag.tar", DockerSave(*image, {"example.com/tag:1"},
                                                   DockerLayout::kBlobs));
    ASSERT_TRUE(store_->Import(path).ok());
  }
  auto owner = store_->Find("example.com/tag:1");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_EQ(owner->id, second.config.digest);
  auto old = store_->Find(first.config.digest);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_TRUE(old->repo_tags.empty());
}

// Each refusal: the import fails with the code and message given and stores no image.
class ImportRefusalTest : public ImportTest {
 protected:
  void ExpectRefused(const std::vector<ArchiveEntry>& entries, absl::StatusCode code,
                     const std::string& message) {
    std::string path = Write("bad.tar", entries);
    auto records = store_->Import(path);
    ASSERT_FALSE(records.ok());
    EXPECT_EQ(records.status().code(), code) << records.status();
    EXPECT_NE(records.status().message().find(message), std::string::npos) << records.status();
    EXPECT_TRUE(store_->List().empty());
  }
};

TEST_F(ImportRefusalTest, DotDotEntry) {
  TestImage image = TwoLayerImage(true);
  std::vector<ArchiveEntry> entries = DockerSave(image, {"x:1"}, DockerLayout::kBlobs);
  entries.push_back({"../escape", "x", ""});
  ExpectRefused(entries, absl::StatusCode::kInvalidArgument, "contains \"..\"");
}

TEST_F(ImportRefusalTest, AbsoluteEntry) {
  TestImage image = TwoLayerImage(true);
  std::vector<ArchiveEntry> entries = DockerSave(image, {"x:1"}, DockerLayout::kBlobs);
  entries.insert(entries.begin(), {"/etc/evil", "x", ""});
  ExpectRefused(entries, absl::StatusCode::kInvalidArgument, "absolute path");
}

TEST_F(ImportRefusalTest, LinkOutOfTheArchive) {
  TestImage image = TwoLayerImage(true);
  std::vector<ArchiveEntry> entries = DockerSave(image, {"x:1"}, DockerLayout::kLegacyDirs);
  entries.push_back({"dir/link", "", "../../etc/passwd"});
  ExpectRefused(entries, absl::StatusCode::kInvalidArgument, "points outside the archive");
}

TEST_F(ImportRefusalTest, TamperedOciBlob) {
  TestImage image = TwoLayerImage(true);
  std::vector<ArchiveEntry> entries =
      OciLayout(image.manifest, {{"example.com/t:1", ""}}, ImageBlobs(image));
  for (ArchiveEntry& entry : entries) {
    if (entry.path.ends_with(image::DigestHex(image.layers[1].blob.digest))) entry.data[20] ^= 1;
  }
  ExpectRefused(entries, absl::StatusCode::kDataLoss, "has digest");
}

TEST_F(ImportRefusalTest, PlainLayerWrongDiffId) {
  TestImage image = TwoLayerImage(false);
  absl::StatusOr<TestLayer> other = LayerBuilder().File("other", "x").Build(false);
  ASSERT_TRUE(other.ok());
  image.layers[1] = *other;  // the config still names the old diff id
  ExpectRefused(DockerSave(image, {"x:1"}, DockerLayout::kLegacyDirs),
                absl::StatusCode::kDataLoss, "diff id");
}

TEST_F(ImportRefusalTest, GzipLayerWrongDiffId) {
  TestImage image = TwoLayerImage(true);
  absl::StatusOr<TestLayer> other = LayerBuilder().File("other", "x").Build(true);
  ASSERT_TRUE(other.ok());
  image.layers[1].blob = other->blob;
  ExpectRefused(DockerSave(image, {"x:1"}, DockerLayout::kBlobs), absl::StatusCode::kDataLoss,
                "");
}

TEST_F(ImportRefusalTest, ConfigOverTheLimit) {
  TestImageConfig config;
  config.labels["padding"] = std::string(5 << 20, 'p');
  absl::StatusOr<TestImage> image = BuildImage({busybox_}, config);
  ASSERT_TRUE(image.ok());
  ExpectRefused(DockerSave(*image, {"x:1"}, DockerLayout::kBlobs),
                absl::StatusCode::kFailedPrecondition, "more than the limit");
}

TEST_F(ImportRefusalTest, MissingLayer) {
  TestImage image = TwoLayerImage(true);
  std::vector<ArchiveEntry> entries =
      OciLayout(image.manifest, {{"example.com/t:1", ""}}, ImageBlobs(image));
  entries.pop_back();  // the top layer
  ExpectRefused(entries, absl::StatusCode::kNotFound, "has no file");
}

TEST_F(ImportRefusalTest, NotAnArchive) {
  std::string path = JoinPath(temp_, "text.tar");
  ASSERT_TRUE(WriteFile(path, std::string(4096, 'z')).ok());
  auto records = store_->Import(path);
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument) << records.status();
}

TEST_F(ImportRefusalTest, NeitherLayout) {
  ExpectRefused({{"hello.txt", "hi", ""}}, absl::StatusCode::kInvalidArgument,
                "neither index.json");
}

}  // namespace
}  // namespace berth::e2e
