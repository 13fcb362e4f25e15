// runtime.v1.ImageService over gRPC. Every method goes through the wrapper in call.h and is
// served by an ImageBackend (backend.h).
#pragma once

#include "cri/backend.h"
#include "cri/call.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::cri {

class ImageServiceImpl final : public runtime::v1::ImageService::Service {
 public:
  // `backend` and `state` must outlive the service.
  ImageServiceImpl(ImageBackend& backend, const ServingState& state);

  grpc::Status ListImages(grpc::ServerContext* context,
                          const runtime::v1::ListImagesRequest* request,
                          runtime::v1::ListImagesResponse* response) override;
  grpc::Status StreamImages(grpc::ServerContext* context,
                            const runtime::v1::StreamImagesRequest* request,
                            grpc::ServerWriter<runtime::v1::StreamImagesResponse>* writer) override;
  grpc::Status ImageStatus(grpc::ServerContext* context,
                           const runtime::v1::ImageStatusRequest* request,
                           runtime::v1::ImageStatusResponse* response) override;
  grpc::Status PullImage(grpc::ServerContext* context, const runtime::v1::PullImageRequest* request,
                         runtime::v1::PullImageResponse* response) override;
  grpc::Status RemoveImage(grpc::ServerContext* context,
                           const runtime::v1::RemoveImageRequest* request,
                           runtime::v1::RemoveImageResponse* response) override;
  grpc::Status ImageFsInfo(grpc::ServerContext* context,
                           const runtime::v1::ImageFsInfoRequest* request,
                           runtime::v1::ImageFsInfoResponse* response) override;

 private:
  ImageBackend& backend_;
  const ServingState& state_;
};

}  // namespace berth::cri
