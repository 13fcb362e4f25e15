// The ImageService backend of berthd: turns CRI image requests into calls on image::ImageStore
// and its records into CRI Image messages.
#pragma once

#include <string>

#include "cri/backend.h"
#include "image/image_store.h"

namespace berth::cri {

class StoreImageBackend : public ImageBackend {
 public:
  // `store` must outlive the backend. `containers_dir` holds the containers' writable layers;
  // ImageFsInfo reports it as the container filesystem.
  StoreImageBackend(image::ImageStore* store, std::string containers_dir)
      : store_(store), containers_dir_(std::move(containers_dir)) {}

  absl::StatusOr<::runtime::v1::ListImagesResponse> ListImages(
      const ::runtime::v1::ListImagesRequest& request) override;
  absl::StatusOr<::runtime::v1::ImageStatusResponse> ImageStatus(
      const ::runtime::v1::ImageStatusRequest& request) override;
  absl::StatusOr<::runtime::v1::PullImageResponse> PullImage(
      const ::runtime::v1::PullImageRequest& request) override;
  absl::StatusOr<::runtime::v1::RemoveImageResponse> RemoveImage(
      const ::runtime::v1::RemoveImageRequest& request) override;
  absl::StatusOr<::runtime::v1::ImageFsInfoResponse> ImageFsInfo(
      const ::runtime::v1::ImageFsInfoRequest& request) override;

 private:
  image::ImageStore* store_;
  std::string containers_dir_;
};

}  // namespace berth::cri
