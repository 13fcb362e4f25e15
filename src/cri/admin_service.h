// berth.admin.v1.Admin over gRPC: pulls that stream their progress, and imports of image
// archives. Both run on the image store berthd's ImageService uses, so what they store is
// listed and usable through CRI at once. Every method goes through the wrapper in call.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "berth/admin/v1/admin.grpc.pb.h"
#include "cri/backend.h"
#include "cri/call.h"
#include "image/image_store.h"

namespace berth::cri {

struct AdminServiceOptions {
  // Folder where archives sent to ImportImage are written while they arrive; created when
  // missing, and emptied of files an earlier run left behind. It should be on the image
  // store's file system, which needs the space anyway.
  std::string spool_dir;
  // Largest archive ImportImage accepts, in bytes. Default 64 GiB.
  int64_t max_archive_bytes = int64_t{64} << 30;
  // Pause between two progress messages of a pull while nothing finishes. Default 100 ms.
  std::chrono::milliseconds progress_interval{100};
};

class AdminServiceImpl final : public ::berth::admin::v1::Admin::Service {
 public:
  // `store` and `state` must outlive the service. Fails when the spool folder cannot be made.
  static absl::StatusOr<std::unique_ptr<AdminServiceImpl>> Create(image::ImageStore* store,
                                                                  const ServingState& state,
                                                                  AdminServiceOptions options);

  // Streams the progress of a pull: the blobs that changed since the previous message, at
  // most one message per progress_interval plus one per finished blob, then a final message
  // with the image id. A cancelled call stops the pull (CANCELLED).
  grpc::Status PullImage(grpc::ServerContext* context,
                         const ::berth::admin::v1::PullImageRequest* request,
                         grpc::ServerWriter<::berth::admin::v1::PullProgress>* writer) override;

  // Writes the streamed archive to the spool folder, imports it, deletes it and returns the
  // images. An empty stream or one over max_archive_bytes is INVALID_ARGUMENT or
  // RESOURCE_EXHAUSTED; a cancelled call stops the import.
  grpc::Status ImportImage(grpc::ServerContext* context,
                           grpc::ServerReader<::berth::admin::v1::ImportChunk>* reader,
                           ::berth::admin::v1::ImportImageResponse* response) override;

 private:
  AdminServiceImpl(image::ImageStore* store, const ServingState& state,
                   AdminServiceOptions options);

  absl::Status Pull(const ::berth::admin::v1::PullImageRequest& request,
                    ResponseWriter<::berth::admin::v1::PullProgress>& out);
  absl::StatusOr<::berth::admin::v1::ImportImageResponse> Import(
      grpc::ServerContext* context, grpc::ServerReader<::berth::admin::v1::ImportChunk>* reader);

  image::ImageStore* store_;
  const ServingState& state_;
  AdminServiceOptions options_;
};

}  // namespace berth::cri
