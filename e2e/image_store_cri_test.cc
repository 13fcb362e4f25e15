// The image store over berthd's CRI socket: the configured sandbox image is pinned, ImageStatus
// gives verbose info, ImageFsInfo measures the image and the container filesystems, and an image
// that a container uses cannot be removed, also after berthd restarts.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "e2e/support/cri_fixture.h"
#include "e2e/support/daemon.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {
namespace {

// Busybox plus a layer holding the file `name`, so that each such image has its own id.
absl::StatusOr<TestImage> BusyboxWith(const std::string& name) {
  auto base = BusyboxLayer();
  if (!base.ok()) return base.status();
  auto extra = LayerBuilder().File(name, name).Build();
  if (!extra.ok()) return extra.status();
  return BuildImage({*base, *extra}, {});
}

absl::Status PullOver(v1::ImageService::Stub& images, const std::string& reference) {
  v1::PullImageRequest request;
  request.mutable_image()->set_image(reference);
  v1::PullImageResponse response;
  return FromGrpc(images.PullImage(NewClientContext(std::chrono::seconds(60)).get(), request,
                                   &response));
}

absl::Status RemoveOver(v1::ImageService::Stub& images, const std::string& reference) {
  v1::RemoveImageRequest request;
  request.mutable_image()->set_image(reference);
  v1::RemoveImageResponse response;
  return FromGrpc(images.RemoveImage(NewClientContext().get(), request, &response));
}

absl::StatusOr<v1::ImageStatusResponse> StatusOver(v1::ImageService::Stub& images,
                                                   const std::string& reference) {
  v1::ImageStatusRequest request;
  request.mutable_image()->set_image(reference);
  request.set_verbose(true);
  v1::ImageStatusResponse response;
  absl::Status status =
      FromGrpc(images.ImageStatus(NewClientContext().get(), request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::ImageFsInfoResponse> FsInfoOver(v1::ImageService::Stub& images) {
  v1::ImageFsInfoResponse response;
  absl::Status status = FromGrpc(images.ImageFsInfo(NewClientContext().get(), {}, &response));
  if (!status.ok()) return status;
  return response;
}

// A registry holding two images and a berthd whose sandbox image is one of them.
class ImageCriTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto registry = TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    auto pause = BusyboxWith("pause");
    auto app = BusyboxWith("app");
    ASSERT_TRUE(pause.ok()) << pause.status();
    ASSERT_TRUE(app.ok()) << app.status();
    pause_image_ = *pause;
    app_image_ = *app;
    ASSERT_TRUE(registry_->PushImage("pause", "3.9", pause_image_).ok());
    ASSERT_TRUE(registry_->PushImage("app", "1", app_image_).ok());
    pause_ = absl::StrCat(registry_->host(), "/pause:3.9");
    app_ = absl::StrCat(registry_->host(), "/app:1");

    TestDaemonOptions options;
    options.config_toml = absl::StrCat("[image]\nsandbox_image = \"", pause_, "\"\n");
    auto daemon = TestDaemon::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  void TearDown() override {
    if (daemon_ && HasFailure()) std::fprintf(stderr, "%s\n", daemon_->ReadLog().c_str());
    daemon_.reset();
    registry_.reset();
  }

  v1::ImageService::Stub& images() { return daemon_->images(); }

  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TestDaemon> daemon_;
  TestImage pause_image_;
  TestImage app_image_;
  std::string pause_;
  std::string app_;
};

TEST_F(ImageCriTest, SandboxImageIsPinned) {
  ASSERT_TRUE(PullOver(images(), pause_).ok());
  ASSERT_TRUE(PullOver(images(), app_).ok());

  auto status = StatusOver(images(), pause_);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->image().pinned());
  auto app_status = StatusOver(images(), app_);
  ASSERT_TRUE(app_status.ok()) << app_status.status();
  EXPECT_FALSE(app_status->image().pinned());

  v1::ListImagesResponse listed;
  ASSERT_TRUE(images().ListImages(NewClientContext().get(), {}, &listed).ok());
  ASSERT_EQ(listed.images_size(), 2);
  for (const v1::Image& image : listed.images()) {
    EXPECT_EQ(image.pinned(), image.id() == pause_image_.config.digest) << image.id();
  }

  absl::Status by_tag = RemoveOver(images(), pause_);
  EXPECT_EQ(by_tag.code(), absl::StatusCode::kFailedPrecondition) << by_tag;
  absl::Status by_id = RemoveOver(images(), status->image().id());
  EXPECT_EQ(by_id.code(), absl::StatusCode::kFailedPrecondition) << by_id;
  EXPECT_NE(by_id.message().find("pinned"), std::string::npos) << by_id;
  Report("remove_pinned", by_id.ToString());

  ASSERT_TRUE(RemoveOver(images(), app_).ok());
  status = StatusOver(images(), pause_);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->has_image());
}

TEST_F(ImageCriTest, VerboseStatusDescribesImage) {
  ASSERT_TRUE(PullOver(images(), app_).ok());
  auto status = StatusOver(images(), app_);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_TRUE(status->info().contains("info"));
  nlohmann::json info = nlohmann::json::parse(status->info().at("info"), nullptr, false);
  ASSERT_TRUE(info.is_object()) << status->info().at("info");

  EXPECT_EQ(info.value("imageId", ""), app_image_.config.digest);
  EXPECT_EQ(info.value("manifestDigest", ""), app_image_.manifest.digest);
  ASSERT_TRUE(info["chainIDs"].is_array());
  ASSERT_EQ(info["chainIDs"].size(), 2u);
  EXPECT_EQ(info["chainIDs"][0], app_image_.layers[0].diff_id);  // the bottom chain id
  EXPECT_NE(info["chainIDs"][1], app_image_.layers[1].diff_id);
  EXPECT_EQ(info["diffIDs"][1], app_image_.layers[1].diff_id);
  int64_t size = static_cast<int64_t>(app_image_.layers[0].blob.data.size() +
                                      app_image_.layers[1].blob.data.size());
  EXPECT_EQ(info.value("size", int64_t{0}), size);
  EXPECT_EQ(status->image().size(), static_cast<uint64_t>(size));
  // The config as the registry served it.
  EXPECT_EQ(info["config"], nlohmann::json::parse(app_image_.config.data));
  EXPECT_EQ(info["config"]["rootfs"]["diff_ids"][1], app_image_.layers[1].diff_id);
}

TEST_F(ImageCriTest, FsInfoCountsImageBytesAndInodes) {
  auto before = FsInfoOver(images());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->image_filesystems_size(), 1);
  ASSERT_EQ(before->container_filesystems_size(), 1);
  EXPECT_EQ(before->image_filesystems(0).fs_id().mountpoint(), daemon_->root());
  EXPECT_EQ(before->container_filesystems(0).fs_id().mountpoint(),
            daemon_->root() + "/containers");
  EXPECT_GT(before->container_filesystems(0).inodes_used().value(), 0u);
  EXPECT_GT(before->image_filesystems(0).timestamp(), 0);

  ASSERT_TRUE(PullOver(images(), app_).ok());
  auto after = FsInfoOver(images());
  ASSERT_TRUE(after.ok()) << after.status();
  const v1::FilesystemUsage& was = before->image_filesystems(0);
  const v1::FilesystemUsage& now = after->image_filesystems(0);
  // The busybox binary alone is larger than 500 KiB, and the layer has hundreds of symlinks.
  EXPECT_GT(now.used_bytes().value(), was.used_bytes().value() + 500 * 1024);
  EXPECT_GT(now.inodes_used().value(), was.inodes_used().value() + 100);
  Report("image_fs", absl::StrCat(now.used_bytes().value(), " bytes, ",
                                  now.inodes_used().value(), " inodes"));

  ASSERT_TRUE(RemoveOver(images(), app_).ok());
  auto removed = FsInfoOver(images());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_LT(removed->image_filesystems(0).inodes_used().value(), now.inodes_used().value());
}

// A container keeps its image: RemoveImage refuses it, also after berthd restarts, and accepts
// it once the container is gone.
class ImageInUseTest : public CriTest {};

TEST_F(ImageInUseTest, ContainerHoldsImageAcrossRestart) {
  auto pulled = Pull();
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  v1::PodSandboxConfig pod = PodConfig("holder");
  auto pod_id = RunPod(pod);
  ASSERT_TRUE(pod_id.ok()) << pod_id.status();
  auto container = CreateContainer(*pod_id, ContainerConfig("holder", {"sleep", "60"}), pod);
  ASSERT_TRUE(container.ok()) << container.status();

  absl::Status refused = RemoveOver(images(), image());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find(*container), std::string::npos) << refused;
  Report("remove_in_use", refused.ToString());

  auto fs = FsInfoOver(images());
  ASSERT_TRUE(fs.ok()) << fs.status();
  ASSERT_EQ(fs->container_filesystems_size(), 1);
  EXPECT_GT(fs->container_filesystems(0).inodes_used().value(), 3u);  // dir, upper, work, ...

  ASSERT_TRUE(daemon().Stop().ok());
  ASSERT_TRUE(daemon().Restart().ok());
  refused = RemoveOver(images(), *pulled);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;

  v1::RemoveContainerRequest remove;
  remove.set_container_id(*container);
  v1::RemoveContainerResponse removed;
  ASSERT_TRUE(runtime().RemoveContainer(NewClientContext(std::chrono::seconds(30)).get(), remove,
                                        &removed).ok());
  absl::Status accepted = RemoveOver(images(), image());
  EXPECT_TRUE(accepted.ok()) << accepted;
  v1::ListImagesResponse listed;
  ASSERT_TRUE(images().ListImages(NewClientContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.images_size(), 0);
}

}  // namespace
}  // namespace berth::e2e
