// Removal by id, tag and digest, images held by containers, pinned images and garbage collection
// of the image store, against a real docker-registry on loopback.
#include <dirent.h>

#include <memory>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/image_store_fixture.h"
#include "e2e/support/test_image.h"
#include "image/digest.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

using e2e::LayerBuilder;
using e2e::TestImage;

class StoreRemoveTest : public e2e::ImageStoreTest {
 protected:
  // Busybox plus one small layer holding `file`.
  absl::StatusOr<TestImage> BusyboxPlus(const std::string& file) {
    auto base = e2e::BusyboxLayer();
    if (!base.ok()) return base.status();
    auto extra = LayerBuilder().File(file, file).Build();
    if (!extra.ok()) return extra.status();
    return e2e::BuildImage({*base, *extra}, {});
  }

  // Pushes `image` under every "repo:tag" of `names` and pulls each; returns the last record.
  absl::StatusOr<ImageRecord> PushAndPull(const TestImage& image,
                                          const std::vector<std::string>& names) {
    absl::StatusOr<ImageRecord> record = absl::NotFoundError("no names");
    for (const std::string& name : names) {
      auto colon = name.find(':');
      absl::Status pushed = registry_->PushImage(name.substr(0, colon), name.substr(colon + 1),
                                                 image);
      if (!pushed.ok()) return pushed;
      record = store_->Pull(Ref(name));
      if (!record.ok()) return record;
    }
    return record;
  }

  // Reopens the store on the same root with `pinned` references.
  void Reopen(const std::vector<std::string>& pinned) {
    store_.reset();
    ImageStoreOptions options;
    options.root = root_;
    options.pinned_images = pinned;
    auto store = ImageStore::Open(std::move(options));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  size_t Snapshots() const { return ListNames(JoinPath(root_, "snapshots")).size(); }

  static std::vector<std::string> ListNames(const std::string& dir) {
    std::vector<std::string> names;
    std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
    if (!handle) return names;
    while (struct dirent* entry = ::readdir(handle.get())) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    return names;
  }
};

TEST_F(StoreRemoveTest, RemovingOneTagKeepsImage) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  auto record = PushAndPull(*image, {"app:1", "app:2", "other:1"});
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_EQ(record->repo_tags.size(), 3u);
  ASSERT_EQ(record->repo_digests.size(), 2u);  // one per repository

  ASSERT_TRUE(store_->Remove(Ref("app:1")).ok());
  auto after = store_->Find(record->id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->repo_tags, (std::vector<std::string>{Ref("other:1"), Ref("app:2")}));
  EXPECT_EQ(after->repo_digests.size(), 2u);
  EXPECT_TRUE(absl::IsNotFound(store_->Find(Ref("app:1")).status()));
  EXPECT_EQ(Snapshots(), 1u);

  // The last tag of a repository takes that repository's digest reference with it.
  ASSERT_TRUE(store_->Remove(Ref("other:1")).ok());
  after = store_->Find(record->id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->repo_tags, std::vector<std::string>{Ref("app:2")});
  ASSERT_EQ(after->repo_digests.size(), 1u);
  EXPECT_TRUE(after->repo_digests[0].starts_with(Ref("app@sha256:")));

  // The change is on disk.
  Reopen({});
  after = store_->Find(record->id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->repo_tags, std::vector<std::string>{Ref("app:2")});

  // The last name removes the image and its layers.
  ASSERT_TRUE(store_->Remove(Ref("app:2")).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Find(record->id).status()));
  EXPECT_TRUE(store_->List().empty());
  EXPECT_EQ(Snapshots(), 0u);
}

TEST_F(StoreRemoveTest, RemovingDigestKeepsTags) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  auto record = PushAndPull(*image, {"app:1"});
  ASSERT_TRUE(record.ok()) << record.status();
  std::string by_digest = Ref("app@" + image->manifest.digest);

  // Pulled by digest too: same image, still one digest reference.
  ASSERT_TRUE(store_->Pull(by_digest).ok());
  ASSERT_TRUE(store_->Remove(by_digest).ok());
  auto after = store_->Find(record->id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->repo_tags, std::vector<std::string>{Ref("app:1")});
  EXPECT_TRUE(after->repo_digests.empty());

  ASSERT_TRUE(store_->Remove(Ref("app:1")).ok());
  EXPECT_TRUE(store_->List().empty());
}

TEST_F(StoreRemoveTest, RemovingByDigestAloneRemovesImage) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("app", "1", *image).ok());
  std::string by_digest = Ref("app@" + image->manifest.digest);
  auto record = store_->Pull(by_digest);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(record->repo_tags.empty());

  ASSERT_TRUE(store_->Remove(by_digest).ok());
  EXPECT_TRUE(store_->List().empty());
  EXPECT_EQ(Snapshots(), 0u);
}

TEST_F(StoreRemoveTest, RemovingByIdRemovesAllNames) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  auto record = PushAndPull(*image, {"app:1", "app:2", "other:1"});
  ASSERT_TRUE(record.ok()) << record.status();

  ASSERT_TRUE(store_->Remove(record->id).ok());
  EXPECT_TRUE(store_->List().empty());
  EXPECT_TRUE(absl::IsNotFound(store_->Find(Ref("other:1")).status()));
  EXPECT_EQ(Snapshots(), 0u);
  EXPECT_TRUE(absl::IsNotFound(store_->Remove(record->id)));
}

TEST_F(StoreRemoveTest, HeldImageIsNotRemoved) {
  auto shared = BusyboxPlus("one");
  ASSERT_TRUE(shared.ok()) << shared.status();
  auto record = PushAndPull(*shared, {"app:1", "app:2"});
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_TRUE(store_->Use("container-a", record->id).ok());
  ASSERT_TRUE(store_->Use("container-b", record->id).ok());
  EXPECT_EQ(store_->UsersOf(record->id),
            (std::vector<std::string>{"container-a", "container-b"}));

  absl::Status by_id = store_->Remove(record->id);
  EXPECT_TRUE(absl::IsFailedPrecondition(by_id)) << by_id;
  EXPECT_NE(by_id.message().find("container-a"), std::string::npos) << by_id;

  // A name may go while another one is left, but the last one may not.
  ASSERT_TRUE(store_->Remove(Ref("app:1")).ok());
  absl::Status last = store_->Remove(Ref("app:2"));
  EXPECT_TRUE(absl::IsFailedPrecondition(last)) << last;
  EXPECT_TRUE(store_->Find(Ref("app:2")).ok());
  for (const std::string& dir : record->snapshot_dirs) EXPECT_TRUE(PathExists(dir)) << dir;

  store_->Release("container-a");
  EXPECT_TRUE(absl::IsFailedPrecondition(store_->Remove(record->id)));
  store_->Release("container-b");
  store_->Release("never-held");
  ASSERT_TRUE(store_->Remove(record->id).ok());
  for (const std::string& dir : record->snapshot_dirs) EXPECT_FALSE(PathExists(dir)) << dir;
}

TEST_F(StoreRemoveTest, UseOfRemovedImageIsNotFound) {
  auto image = e2e::BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  auto record = PushAndPull(*image, {"app:1"});
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_TRUE(store_->Remove(record->id).ok());
  absl::Status used = store_->Use("late-container", record->id);
  EXPECT_TRUE(absl::IsNotFound(used)) << used;
}

TEST_F(StoreRemoveTest, GarbageCollectionKeepsSharedAndHeldLayers) {
  auto first = BusyboxPlus("first");
  auto second = BusyboxPlus("second");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  auto one = PushAndPull(*first, {"first:1"});
  auto two = PushAndPull(*second, {"second:1"});
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(Snapshots(), 3u);  // the busybox layer is shared
  ASSERT_TRUE(store_->Use("container", two->id).ok());

  ASSERT_TRUE(store_->Remove(one->id).ok());
  EXPECT_EQ(Snapshots(), 2u);
  EXPECT_TRUE(PathExists(two->snapshot_dirs[0]));
  EXPECT_TRUE(PathExists(two->snapshot_dirs[1]));
  EXPECT_FALSE(PathExists(one->snapshot_dirs[1]));
  std::string blobs = JoinPath(root_, "content/blobs/sha256");
  EXPECT_FALSE(PathExists(JoinPath(blobs, DigestHex(one->manifest_digest))));
  EXPECT_TRUE(PathExists(JoinPath(blobs, DigestHex(two->manifest_digest))));
}

TEST_F(StoreRemoveTest, PinnedImageIsNotRemoved) {
  auto pause = BusyboxPlus("pause");
  auto other = BusyboxPlus("other");
  ASSERT_TRUE(pause.ok()) << pause.status();
  ASSERT_TRUE(other.ok()) << other.status();
  auto pinned = PushAndPull(*pause, {"pause:3.9", "pause:alias"});
  auto unpinned = PushAndPull(*other, {"other:1"});
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  ASSERT_TRUE(unpinned.ok()) << unpinned.status();
  Reopen({Ref("pause:3.9")});
  auto found = store_->Find(Ref("pause:3.9"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(store_->IsPinned(*found));
  EXPECT_FALSE(store_->IsPinned(*store_->Find(Ref("other:1"))));

  absl::Status by_id = store_->Remove(pinned->id);
  EXPECT_TRUE(absl::IsFailedPrecondition(by_id)) << by_id;
  EXPECT_NE(by_id.message().find("pinned"), std::string::npos) << by_id;
  absl::Status by_tag = store_->Remove(Ref("pause:3.9"));
  EXPECT_TRUE(absl::IsFailedPrecondition(by_tag)) << by_tag;
  ASSERT_TRUE(store_->Remove(Ref("pause:alias")).ok());  // another name of it may go

  // Collection after another removal keeps every layer of the pinned image.
  ASSERT_TRUE(store_->Remove(unpinned->id).ok());
  found = store_->Find(Ref("pause:3.9"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->repo_tags, std::vector<std::string>{Ref("pause:3.9")});
  for (const std::string& dir : found->snapshot_dirs) EXPECT_TRUE(PathExists(dir)) << dir;
  EXPECT_EQ(Snapshots(), 2u);
}

}  // namespace
}  // namespace berth::image
