#include "cri/image_service.h"

namespace berth::cri {

ImageServiceImpl::ImageServiceImpl(ImageBackend& backend, const ServingState& state)
    : backend_(backend), state_(state) {}

// Each method hands its request to the backend method of the same name through the wrapper.
#define BERTH_IMAGE_UNARY(Rpc, Request, Response, Kind)                                   \
  grpc::Status ImageServiceImpl::Rpc(grpc::ServerContext* context,                        \
                                     const runtime::v1::Request* request,                 \
                                     runtime::v1::Response* response) {                   \
    static constexpr RpcInfo kRpc{"runtime.v1.ImageService/" #Rpc, RpcKind::Kind};        \
    return ServeUnary(kRpc, state_, context, *request, response,                          \
                      [this](const runtime::v1::Request& r) { return backend_.Rpc(r); }); \
  }

BERTH_IMAGE_UNARY(ListImages, ListImagesRequest, ListImagesResponse, kRead)
BERTH_IMAGE_UNARY(ImageStatus, ImageStatusRequest, ImageStatusResponse, kRead)
BERTH_IMAGE_UNARY(PullImage, PullImageRequest, PullImageResponse, kChange)
BERTH_IMAGE_UNARY(RemoveImage, RemoveImageRequest, RemoveImageResponse, kChange)
BERTH_IMAGE_UNARY(ImageFsInfo, ImageFsInfoRequest, ImageFsInfoResponse, kRead)

grpc::Status ImageServiceImpl::StreamImages(
    grpc::ServerContext* context, const runtime::v1::StreamImagesRequest* request,
    grpc::ServerWriter<runtime::v1::StreamImagesResponse>* writer) {
  static constexpr RpcInfo kRpc{"runtime.v1.ImageService/StreamImages", RpcKind::kRead};
  return ServeStream(kRpc, state_, context, *request, writer,
                     [this](const runtime::v1::StreamImagesRequest& r,
                            ResponseWriter<runtime::v1::StreamImagesResponse>& out) {
                       return backend_.StreamImages(r, out);
                     });
}

}  // namespace berth::cri
