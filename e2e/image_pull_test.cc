// Pulls from a real docker-registry on loopback: busybox end to end, whiteouts through an
// overlay mount, indexes, and the failures a pull must report clearly.
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "e2e/support/image_store_fixture.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "image/digest.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

using e2e::IndexEntry;
using e2e::LayerBuilder;
using e2e::TestBlob;
using e2e::TestImage;
using e2e::TestImageConfig;
using e2e::TestLayer;

class ImagePullTest : public e2e::ImageStoreTest {
 protected:
  void TearDown() override {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    ImageStoreTest::TearDown();
  }

  static size_t CountEntries(const std::string& dir) {
    std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
    if (!handle) return 0;
    size_t count = 0;
    while (struct dirent* entry = ::readdir(handle.get())) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") ++count;
    }
    return count;
  }

  std::string BlobFile(const std::string& digest) const {
    return JoinPath(root_, "content/blobs/sha256/" + DigestHex(digest));
  }

  // Mounts the image's layers read-only with overlayfs and returns the mount point.
  std::string MountLayers(const ImageRecord& record) {
    std::vector<std::string> lower = record.LayerDirs();
    std::reverse(lower.begin(), lower.end());  // overlayfs lists the top layer first
    std::string target = JoinPath(temp_, absl::StrCat("merged", mounts_.size()));
    EXPECT_TRUE(MakeDirs(target).ok());
    std::string options = absl::StrCat("lowerdir=", absl::StrJoin(lower, ":"));
    if (::mount("overlay", target.c_str(), "overlay", MS_RDONLY, options.c_str()) != 0) {
      ADD_FAILURE() << "mount overlay: " << std::strerror(errno);
      return target;
    }
    mounts_.push_back(target);
    return target;
  }

  std::vector<std::string> mounts_;
};

TEST_F(ImagePullTest, PullsBusybox) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("busybox", "latest", *image).ok());

  auto record = store_->Pull(Ref("busybox"));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->id, image->config.digest);
  EXPECT_EQ(record->repo_tags, std::vector<std::string>{Ref("busybox:latest")});
  EXPECT_EQ(record->repo_digests,
            std::vector<std::string>{Ref("busybox@" + image->manifest.digest)});
  EXPECT_EQ(record->manifest_digest, image->manifest.digest);
  EXPECT_EQ(record->size, static_cast<int64_t>(image->layers[0].blob.data.size()));
  EXPECT_EQ(record->config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(record->config.env,
            std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
  EXPECT_EQ(record->diff_ids, std::vector<std::string>{image->layers[0].diff_id});
  ASSERT_EQ(record->LayerDirs().size(), 1u);

  // The manifest and config are on disk under their digests, with content matching them. The
  // layer blob streamed into its snapshot and was not kept.
  for (const std::string& digest : {image->manifest.digest, image->config.digest}) {
    auto data = ReadFile(BlobFile(digest));
    ASSERT_TRUE(data.ok()) << digest;
    EXPECT_EQ(Sha256Digest(*data), digest);
  }
  EXPECT_FALSE(PathExists(BlobFile(image->layers[0].blob.digest)));

  // The unpacked busybox is the host's binary, with its applets.
  std::string fs = record->LayerDirs()[0];
  EXPECT_EQ(*ReadFile(JoinPath(fs, "bin/busybox")), *ReadFile(e2e::kHostBusybox));
  struct stat st;
  ASSERT_EQ(::lstat(JoinPath(fs, "bin/sh").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(::stat(JoinPath(fs, "tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);

  // Find by tag, short name, id, id prefix and digest.
  for (const std::string& key :
       {Ref("busybox:latest"), Ref("busybox"), record->id, DigestHex(record->id).substr(0, 12),
        record->id.substr(0, 20), Ref("busybox@" + image->manifest.digest)}) {
    auto found = store_->Find(key);
    ASSERT_TRUE(found.ok()) << key << ": " << found.status();
    EXPECT_EQ(found->id, record->id) << key;
  }
  EXPECT_TRUE(absl::IsNotFound(store_->Find("busybox").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Find(Ref("busybox:other")).status()));

  auto usage = store_->Usage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->mountpoint, root_);
  EXPECT_GT(usage->used_bytes, image->layers[0].blob.data.size());
  EXPECT_GT(usage->inodes_used, 270u);

  // Records survive a restart.
  store_.reset();
  auto reopened = ImageStore::Open(ImageStoreOptions::AtRoot(root_));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  std::vector<ImageRecord> listed = (*reopened)->List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, record->id);
  EXPECT_EQ(listed[0].LayerDirs(), record->LayerDirs());
  EXPECT_EQ(listed[0].repo_tags, record->repo_tags);
}

TEST_F(ImagePullTest, PullByDigestRecordsNoTag) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("busybox", "1.0", *image).ok());

  auto record = store_->Pull(Ref("busybox:ignored@" + image->manifest.digest));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(record->repo_tags.empty());
  EXPECT_EQ(record->repo_digests,
            std::vector<std::string>{Ref("busybox@" + image->manifest.digest)});
}

TEST_F(ImagePullTest, WhiteoutsHideLowerFiles) {
  LayerBuilder bottom;
  bottom.Dir("etc").File("etc/a", "a").File("etc/b", "b").Dir("d").File("d/x", "x");
  LayerBuilder top;
  top.Whiteout("etc/a").Opaque("d").File("d/y", "y");
  auto bottom_layer = bottom.Build(/*gzip=*/true);
  auto top_layer = top.Build(/*gzip=*/false);
  ASSERT_TRUE(bottom_layer.ok()) << bottom_layer.status();
  ASSERT_TRUE(top_layer.ok()) << top_layer.status();
  auto image = e2e::BuildImage({*bottom_layer, *top_layer}, TestImageConfig{});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(registry_->PushImage("layers", "v1", *image).ok());

  auto record = store_->Pull(Ref("layers:v1"));
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->LayerDirs().size(), 2u);

  std::string upper = record->LayerDirs()[1];
  struct stat st;
  ASSERT_EQ(::lstat(JoinPath(upper, "etc/a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  char value[4] = {};
  EXPECT_EQ(::getxattr(JoinPath(upper, "d").c_str(), "trusted.overlay.opaque", value, 4), 1);
  EXPECT_EQ(value[0], 'y');

  std::string merged = MountLayers(*record);
  EXPECT_FALSE(PathExists(JoinPath(merged, "etc/a")));
  EXPECT_EQ(*ReadFile(JoinPath(merged, "etc/b")), "b");
  EXPECT_FALSE(PathExists(JoinPath(merged, "d/x")));
  EXPECT_EQ(*ReadFile(JoinPath(merged, "d/y")), "y");
}

TEST_F(ImagePullTest, IndexPicksLinuxAmd64) {
  auto amd64 = e2e::BusyboxImage();
  TestImageConfig arm_config;
  arm_config.architecture = "arm64";
  arm_config.cmd = {"arm"};
  auto arm64 = e2e::BusyboxImage(arm_config);
  ASSERT_TRUE(amd64.ok()) << amd64.status();
  ASSERT_TRUE(arm64.ok()) << arm64.status();
  for (const TestImage* image : {&*amd64, &*arm64}) {
    ASSERT_TRUE(registry_->PushImage("multi", image->manifest.digest, *image).ok());
  }
  IndexEntry arm_entry{arm64->manifest, "linux", "arm64", ""};
  IndexEntry amd_entry{amd64->manifest, "linux", "amd64", ""};
  TestBlob index = e2e::BuildIndex({arm_entry, amd_entry});
  ASSERT_TRUE(registry_->PushManifest("multi", "latest", index).ok());

  auto record = store_->Pull(Ref("multi"));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->id, amd64->config.digest);
  EXPECT_EQ(record->index_digest, index.digest);
  EXPECT_EQ(record->manifest_digest, amd64->manifest.digest);
  EXPECT_EQ(record->repo_digests, std::vector<std::string>{Ref("multi@" + index.digest)});
  EXPECT_TRUE(PathExists(BlobFile(index.digest)));
  auto by_manifest = store_->Find(Ref("multi@" + amd64->manifest.digest));
  ASSERT_TRUE(by_manifest.ok()) << by_manifest.status();
}

TEST_F(ImagePullTest, IndexWithoutLinuxAmd64) {
  TestImageConfig arm_config;
  arm_config.architecture = "arm64";
  auto arm64 = e2e::BusyboxImage(arm_config);
  TestImageConfig s390_config;
  s390_config.architecture = "s390x";
  auto s390x = e2e::BusyboxImage(s390_config);
  ASSERT_TRUE(arm64.ok()) << arm64.status();
  ASSERT_TRUE(s390x.ok()) << s390x.status();
  for (const TestImage* image : {&*arm64, &*s390x}) {
    ASSERT_TRUE(registry_->PushImage("foreign", image->manifest.digest, *image).ok());
  }
  IndexEntry arm_entry{arm64->manifest, "linux", "arm64", ""};
  IndexEntry s390_entry{s390x->manifest, "linux", "s390x", ""};
  ASSERT_TRUE(registry_->PushManifest("foreign", "1", e2e::BuildIndex({arm_entry, s390_entry}))
                  .ok());

  auto record = store_->Pull(Ref("foreign:1"));
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kNotFound);
  std::string message(record.status().message());
  EXPECT_NE(message.find(Ref("foreign:1")), std::string::npos) << message;
  EXPECT_NE(message.find("linux/amd64"), std::string::npos) << message;
  EXPECT_NE(message.find("linux/arm64, linux/s390x"), std::string::npos) << message;
  EXPECT_TRUE(store_->List().empty());
}

TEST_F(ImagePullTest, RegistryDownIsUnavailable) {
  auto port = e2e::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  std::string host = absl::StrCat("127.0.0.1:", *port);
  auto record = store_->Pull(host + "/busybox:latest");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(record.status().message()).find(host), std::string::npos)
      << record.status();
}

TEST_F(ImagePullTest, MissingImageIsNotFound) {
  auto record = store_->Pull(Ref("nothing:here"));
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kNotFound) << record.status();
}

TEST_F(ImagePullTest, CorruptedBlobIsDataLoss) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("busybox", "latest", *image).ok());

  // Same size, different bytes: only the digest can tell.
  const std::string& layer_digest = image->layers[0].blob.digest;
  std::string corrupted = image->layers[0].blob.data;
  corrupted[corrupted.size() / 2] ^= 0x5a;
  ASSERT_TRUE(WriteFile(registry_->BlobDataPath(layer_digest), corrupted).ok());

  auto record = store_->Pull(Ref("busybox"));
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss) << record.status();
  std::string message(record.status().message());
  EXPECT_NE(message.find("layer " + layer_digest), std::string::npos) << message;
  EXPECT_NE(message.find("expected " + layer_digest), std::string::npos) << message;
  EXPECT_NE(message.find("got " + Sha256Digest(corrupted)), std::string::npos) << message;

  EXPECT_FALSE(PathExists(BlobFile(layer_digest)));
  EXPECT_TRUE(store_->List().empty());
  EXPECT_EQ(CountEntries(JoinPath(root_, "snapshots")), 0u);
  EXPECT_EQ(CountEntries(JoinPath(root_, "content/ingest")), 0u);
}

}  // namespace
}  // namespace berth::image
