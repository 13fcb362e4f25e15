// Content store and snapshot store on a temporary directory (no root needed).
#include <gtest/gtest.h>

#include <thread>

#include "base/file.h"
#include "image/content_store.h"
#include "image/digest.h"
#include "image/snapshot_store.h"
#include "temp_dir.h"

namespace berth::image {
namespace {

TEST(ContentStore, PutReadDelete) {
  TempDir temp;
  ContentStore store(temp.Sub("content"));
  ASSERT_TRUE(store.Init().ok());
  std::string digest = Sha256Digest("data");
  EXPECT_FALSE(store.Has(digest));
  ASSERT_TRUE(store.Put(digest, "data", "blob").ok());
  EXPECT_TRUE(store.Has(digest));
  EXPECT_EQ(*store.Read(digest, 100), "data");
  EXPECT_EQ(store.Read(digest, 2).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*store.List(), std::vector<std::string>{digest});
  ASSERT_TRUE(store.Delete(digest).ok());
  EXPECT_FALSE(store.Has(digest));
  EXPECT_TRUE(store.Delete(digest).ok());
  EXPECT_TRUE(absl::IsNotFound(store.Read(digest, 100).status()));
}

TEST(ContentStore, MismatchLeavesNothing) {
  TempDir temp;
  ContentStore store(temp.Sub("content"));
  ASSERT_TRUE(store.Init().ok());
  std::string digest = Sha256Digest("data");
  absl::Status status = store.Put(digest, "other", "layer x");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(store.Has(digest));
  EXPECT_TRUE(store.List()->empty());

  // A writer dropped before Commit leaves no temporary file behind.
  {
    auto writer = store.NewWriter(digest, 4, "blob");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("da").ok());
  }
  ASSERT_TRUE(store.Init().ok());
  EXPECT_FALSE(store.Has(digest));
}

TEST(ChainIds, FollowTheOciFormula) {
  std::string a = Sha256Digest("a");
  std::string b = Sha256Digest("b");
  std::vector<std::string> chain = ChainIds({a, b});
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0], a);
  EXPECT_EQ(chain[1], Sha256Digest(a + " " + b));
  EXPECT_TRUE(ChainIds({}).empty());
}

TEST(SnapshotStore, CreateFindRemoveReload) {
  TempDir temp;
  std::string root = temp.Sub("snapshots");
  SnapshotStore store(root);
  ASSERT_TRUE(store.Load().ok());
  std::string chain = Sha256Digest("layer");

  int fills = 0;
  auto fill = [&fills](const std::string& fs) {
    ++fills;
    return WriteFile(JoinPath(fs, "file"), "x");
  };
  auto created = store.Create(chain, "", chain, fill);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->FsDir(), JoinPath(root, "1/fs"));
  EXPECT_TRUE(PathExists(JoinPath(created->FsDir(), "file")));
  auto again = store.Create(chain, "", chain, fill);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->number, created->number);
  EXPECT_EQ(fills, 1);

  SnapshotStore reloaded(root);
  ASSERT_TRUE(reloaded.Load().ok());
  ASSERT_TRUE(reloaded.Find(chain).has_value());
  EXPECT_EQ(reloaded.Find(chain)->dir, created->dir);

  ASSERT_TRUE(reloaded.Remove(chain).ok());
  EXPECT_FALSE(reloaded.Find(chain).has_value());
  EXPECT_FALSE(PathExists(created->dir));
  EXPECT_TRUE(reloaded.Remove(chain).ok());
}

TEST(SnapshotStore, FailedFillLeavesNothing) {
  TempDir temp;
  std::string root = temp.Sub("snapshots");
  SnapshotStore store(root);
  ASSERT_TRUE(store.Load().ok());
  auto failed = store.Create(Sha256Digest("x"), "", Sha256Digest("x"), [](const std::string& fs) {
    (void)WriteFile(JoinPath(fs, "partial"), "p");
    return absl::DataLossError("bad layer");
  });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(store.List().empty());
  ASSERT_TRUE(MakeDirs(JoinPath(root, "tmp-leftover/fs")).ok());
  SnapshotStore reloaded(root);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_FALSE(PathExists(JoinPath(root, "tmp-leftover")));
}

TEST(SnapshotStore, ConcurrentCreateFillsOnce) {
  TempDir temp;
  SnapshotStore store(temp.Sub("snapshots"));
  ASSERT_TRUE(store.Load().ok());
  std::string chain = Sha256Digest("shared");
  std::atomic<int> fills = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto snapshot = store.Create(chain, "", chain, [&fills](const std::string&) {
        ++fills;
        return absl::OkStatus();
      });
      EXPECT_TRUE(snapshot.ok());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(fills.load(), 1);
  EXPECT_EQ(store.List().size(), 1u);
}

}  // namespace
}  // namespace berth::image
