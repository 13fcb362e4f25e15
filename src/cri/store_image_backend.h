// The ImageService backend of berthd: turns CRI image requests into calls on image::ImageStore
// and its records into CRI Image messages.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cri/backend.h"
#include "image/image_store.h"

namespace berth::cri {

class StoreImageBackend : public ImageBackend {
 public:
  // Returns the ids of the containers whose root file system uses the image with id `image_id`.
  using ImageUsers = std::function<std::vector<std::string>(const std::string& image_id)>;

  // `store` must outlive the backend. RemoveImage refuses an image that `users` reports in use,
  // because its layers are the lower directories of those containers' overlays.
  StoreImageBackend(image::ImageStore* store, ImageUsers users)
      : store_(store), users_(std::move(users)) {}

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
  ImageUsers users_;
};

}  // namespace berth::cri
