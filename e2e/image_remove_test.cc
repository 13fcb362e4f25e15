// Removal, tag moves and concurrent pulls against a real docker-registry on loopback.
#include <dirent.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/json_file.h"
#include "e2e/support/image_store_fixture.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "image/digest.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

using e2e::LayerBuilder;
using e2e::TestImage;
using e2e::TestImageConfig;

class ImageRemoveTest : public e2e::ImageStoreTest {
 protected:

  // Names in `dir` (relative to the store root), without "." and "..".
  std::vector<std::string> Entries(const std::string& dir) const {
    std::vector<std::string> names;
    std::string path = JoinPath(root_, dir);
    std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(path.c_str()), ::closedir);
    if (!handle) return names;
    while (struct dirent* entry = ::readdir(handle.get())) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Busybox plus one small layer on top: shares the busybox snapshot.
  absl::StatusOr<TestImage> BusyboxPlus(const std::string& file) {
    auto base = e2e::BusyboxLayer();
    if (!base.ok()) return base.status();
    auto extra = LayerBuilder().File(file, file).Build();
    if (!extra.ok()) return extra.status();
    return e2e::BuildImage({*base, *extra}, TestImageConfig{});
  }
};

TEST_F(ImageRemoveTest, RemovesUnusedSnapshotsAndBlobs) {
  auto busybox = e2e::BusyboxImage();
  auto app = BusyboxPlus("app");
  ASSERT_TRUE(busybox.ok()) << busybox.status();
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE(registry_->PushImage("busybox", "latest", *busybox).ok());
  ASSERT_TRUE(registry_->PushImage("app", "latest", *app).ok());

  auto base = store_->Pull(Ref("busybox"));
  auto top = store_->Pull(Ref("app"));
  ASSERT_TRUE(base.ok()) << base.status();
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->LayerDirs().size(), 2u);
  EXPECT_EQ(top->LayerDirs()[0], base->LayerDirs()[0]);  // shared, unpacked once
  EXPECT_EQ(Entries("snapshots").size(), 2u);
  // 2 manifests and 2 configs; layer blobs are not kept after their unpack.
  EXPECT_EQ(Entries("content/blobs/sha256").size(), 4u);

  ASSERT_TRUE(store_->Remove(Ref("app")).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Find(Ref("app")).status()));
  EXPECT_TRUE(PathExists(base->LayerDirs()[0]));
  EXPECT_FALSE(PathExists(top->LayerDirs()[1]));
  EXPECT_EQ(Entries("snapshots").size(), 1u);
  std::vector<std::string> expected_blobs = {DigestHex(busybox->manifest.digest),
                                             DigestHex(busybox->config.digest)};
  std::sort(expected_blobs.begin(), expected_blobs.end());
  EXPECT_EQ(Entries("content/blobs/sha256"), expected_blobs);

  ASSERT_TRUE(store_->Remove(base->id.substr(0, 15)).ok());
  EXPECT_TRUE(Entries("snapshots").empty());
  EXPECT_TRUE(Entries("content/blobs/sha256").empty());
  EXPECT_TRUE(Entries("images").empty());
  EXPECT_TRUE(store_->List().empty());

  absl::Status again = store_->Remove(Ref("busybox"));
  EXPECT_TRUE(absl::IsNotFound(again)) << again;
}

TEST_F(ImageRemoveTest, TagMovesToNewImage) {
  auto first = BusyboxPlus("one");
  auto second = BusyboxPlus("two");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(registry_->PushImage("app", "1", *first).ok());
  auto old_record = store_->Pull(Ref("app:1"));
  ASSERT_TRUE(old_record.ok()) << old_record.status();

  ASSERT_TRUE(registry_->PushImage("app", "1", *second).ok());
  auto new_record = store_->Pull(Ref("app:1"));
  ASSERT_TRUE(new_record.ok()) << new_record.status();
  EXPECT_NE(new_record->id, old_record->id);
  EXPECT_EQ(new_record->repo_tags, std::vector<std::string>{Ref("app:1")});

  auto old_now = store_->Find(old_record->id);
  ASSERT_TRUE(old_now.ok());
  EXPECT_TRUE(old_now->repo_tags.empty());
  EXPECT_EQ(old_now->repo_digests, old_record->repo_digests);
  EXPECT_EQ(store_->Find(Ref("app:1"))->id, new_record->id);

  // The move is on disk too.
  store_.reset();
  auto reopened = ImageStore::Open(ImageStoreOptions::AtRoot(root_));
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE((*reopened)->Find(old_record->id)->repo_tags.empty());
  EXPECT_EQ((*reopened)->Find(Ref("app:1"))->id, new_record->id);
  reopened->reset();

  // A crash halfway through a move leaves the tag on both records: the newer pull keeps it.
  std::string old_path = JoinPath(root_, "images/" + DigestHex(old_record->id) + ".json");
  auto json = ReadJsonFile(old_path);
  ASSERT_TRUE(json.ok());
  (*json)["repo_tags"] = {Ref("app:1")};
  ASSERT_TRUE(WriteJsonFileAtomic(old_path, *json).ok());
  auto recovered = ImageStore::Open(ImageStoreOptions::AtRoot(root_));
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE((*recovered)->Find(old_record->id)->repo_tags.empty());
  EXPECT_EQ((*recovered)->Find(Ref("app:1"))->id, new_record->id);
  EXPECT_TRUE((*ReadJsonFile(old_path))["repo_tags"].empty());
}

TEST_F(ImageRemoveTest, SecondTagKeepsBoth) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(registry_->PushImage("busybox", "a", *image).ok());
  ASSERT_TRUE(registry_->PushManifest("busybox", "b", image->manifest).ok());
  ASSERT_TRUE(store_->Pull(Ref("busybox:a")).ok());
  auto record = store_->Pull(Ref("busybox:b"));
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->repo_tags,
            (std::vector<std::string>{Ref("busybox:b"), Ref("busybox:a")}));
  EXPECT_EQ(store_->List().size(), 1u);
}

TEST_F(ImageRemoveTest, ConcurrentPullsOfOneImage) {
  auto image = BusyboxPlus("same");
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(registry_->PushImage("same", "latest", *image).ok());

  constexpr int kPulls = 4;
  std::vector<absl::StatusOr<ImageRecord>> results(kPulls, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kPulls; ++i) {
    threads.emplace_back([this, &results, i] { results[i] = store_->Pull(Ref("same")); });
  }
  for (auto& thread : threads) thread.join();

  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->id, image->config.digest);
    EXPECT_EQ(result->LayerDirs(), results[0]->LayerDirs());
  }
  EXPECT_EQ(store_->List().size(), 1u);
  EXPECT_EQ(Entries("snapshots").size(), 2u);
  EXPECT_TRUE(Entries("content/ingest").empty());
  EXPECT_EQ(Entries("images").size(), 1u);
}

}  // namespace
}  // namespace berth::image
