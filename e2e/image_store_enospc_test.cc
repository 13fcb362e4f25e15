// A full disk fails the pull with a clear error and frees what the pull stored: the store root is
// a small tmpfs mounted inside the test's temporary folder, and the image is larger than it.
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

constexpr const char* kTmpfsOptions = "size=8m,mode=0700";

std::string RandomBytes(size_t size) {
  std::mt19937_64 generator(42);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t value = generator();
    std::memcpy(bytes.data() + i, &value, 8);
  }
  return bytes;
}

std::vector<std::string> ListNames(const std::string& dir) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
  if (!handle) return names;
  while (struct dirent* entry = ::readdir(handle.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  return names;
}

class StoreEnospcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const char* base = std::getenv("TMPDIR");
    temp_ = JoinPath(base && *base ? base : "/tmp", "berth-enospc-e2e-XXXXXX");
    ASSERT_NE(::mkdtemp(temp_.data()), nullptr);
    small_ = JoinPath(temp_, "small");
    ASSERT_TRUE(MakeDirs(small_, 0700).ok());
    ASSERT_EQ(::mount("tmpfs", small_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, kTmpfsOptions), 0)
        << "mount tmpfs on " << small_ << ": " << std::strerror(errno);
    mounted_ = true;
    auto registry = e2e::TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    ImageStoreOptions options;
    options.root = JoinPath(small_, "root");
    auto store = ImageStore::Open(std::move(options));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void TearDown() override {
    store_.reset();
    registry_.reset();
    if (mounted_ && ::umount2(small_.c_str(), MNT_DETACH) != 0) {
      ADD_FAILURE() << "umount " << small_ << ": " << std::strerror(errno);
      return;  // never delete through a mount that is still there
    }
    if (!temp_.empty()) (void)RemoveAll(temp_);
  }

  // Bytes in use on the tmpfs.
  uint64_t UsedBytes() const {
    struct statvfs fs {};
    EXPECT_EQ(::statvfs(small_.c_str(), &fs), 0);
    return (fs.f_blocks - fs.f_bfree) * fs.f_frsize;
  }

  std::string Root(const std::string& relative) const {
    return JoinPath(JoinPath(small_, "root"), relative);
  }

  std::string temp_;
  std::string small_;
  bool mounted_ = false;
  std::unique_ptr<e2e::TestRegistry> registry_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(StoreEnospcTest, FullDiskFailsPullAndFreesFiles) {
  // Busybox fits; the 12 MiB layer above it does not, whether as a blob or unpacked.
  auto base = e2e::BusyboxLayer();
  ASSERT_TRUE(base.ok()) << base.status();
  auto big = e2e::LayerBuilder().File("big", RandomBytes(12 << 20)).Build(/*gzip=*/false);
  ASSERT_TRUE(big.ok()) << big.status();
  auto image = e2e::BuildImage({*base, *big}, {});
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(registry_->PushImage("big", "latest", *image).ok());
  uint64_t used_before = UsedBytes();

  auto pulled = store_->Pull(absl::StrCat(registry_->host(), "/big:latest"));
  ASSERT_FALSE(pulled.ok()) << "an image larger than the disk was pulled";
  EXPECT_TRUE(absl::IsResourceExhausted(pulled.status())) << pulled.status();
  std::string message(pulled.status().message());
  // Layers unpack in parallel, so the error may come from either layer: it names a layer and
  // the path that could not be written.
  bool names_layer = false;
  for (const e2e::TestLayer& layer : image->layers) {
    names_layer = names_layer || message.find(layer.blob.digest) != std::string::npos ||
                  message.find(layer.diff_id) != std::string::npos;
  }
  EXPECT_TRUE(names_layer) << message;
  EXPECT_NE(message.find(Root("")), std::string::npos) << message;
  EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
  RecordProperty("error", pulled.status().ToString());
  std::fprintf(stderr, "[ REPORT   ] enospc: %s\n", pulled.status().ToString().c_str());

  // Nothing of the failed pull is left: no partial file, no snapshot, no blob.
  EXPECT_TRUE(ListNames(Root("content/ingest")).empty());
  EXPECT_TRUE(ListNames(Root("content/blobs/sha256")).empty());
  EXPECT_TRUE(ListNames(Root("snapshots")).empty());
  EXPECT_TRUE(store_->List().empty());
  EXPECT_LT(UsedBytes(), used_before + (256 << 10));

  // The store keeps working once the disk has room.
  ASSERT_TRUE(registry_->PushImage("small", "latest", *e2e::BusyboxImage()).ok());
  auto small = store_->Pull(absl::StrCat(registry_->host(), "/small:latest"));
  EXPECT_TRUE(small.ok()) << small.status();
}

}  // namespace
}  // namespace berth::image
