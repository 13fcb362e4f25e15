// StoreImageBackend: the image RPCs.
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status.h"
#include "cri/call_context.h"
#include "cri/store_image_backend.h"
#include "image/fs_usage.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

void FillImage(const image::ImageRecord& record, bool pinned, v1::Image* out) {
  out->set_id(record.id);
  for (const std::string& tag : record.repo_tags) out->add_repo_tags(tag);
  for (const std::string& digest : record.repo_digests) out->add_repo_digests(digest);
  out->set_size(static_cast<uint64_t>(record.size));
  out->set_pinned(pinned);
  out->mutable_spec()->set_image(record.id);
  *out->mutable_spec()->mutable_annotations() = {};

  // CRI reports a numeric user as uid and a named one as username; a group part is ignored.
  std::string user = record.config.user.substr(0, record.config.user.find(':'));
  int64_t uid = 0;
  if (!user.empty() && absl::SimpleAtoi(user, &uid)) {
    out->mutable_uid()->set_value(uid);
  } else {
    out->set_username(user);
  }
}

absl::Status RequireImage(const v1::ImageSpec& spec) {
  if (spec.image().empty()) return absl::InvalidArgumentError("image.image is missing or empty");
  return absl::OkStatus();
}

// The verbose "info" of ImageStatus: where the image came from and how it is stored. The
// config is the blob as the registry served it, or Berth's reading of it when the blob is gone.
nlohmann::json VerboseInfo(const image::ImageStore& store, const image::ImageRecord& record) {
  nlohmann::json config;
  auto blob = store.ConfigBlob(record);
  if (blob.ok()) config = nlohmann::json::parse(*blob, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || config.is_null()) config = image::ImageConfigToJson(record.config);
  return {{"imageId", record.id},
          {"manifestDigest", record.manifest_digest},
          {"indexDigest", record.index_digest},
          {"layers", record.layer_digests},
          {"diffIDs", record.diff_ids},
          {"chainIDs", record.chain_ids},
          {"snapshots", record.snapshot_dirs},
          {"size", record.size},
          {"pinned", store.IsPinned(record)},
          {"config", config}};
}

void FillUsage(const image::FsUsage& usage, v1::FilesystemUsage* out) {
  out->set_timestamp(usage.timestamp);
  out->mutable_fs_id()->set_mountpoint(usage.mountpoint);
  out->mutable_used_bytes()->set_value(usage.used_bytes);
  out->mutable_inodes_used()->set_value(usage.inodes_used);
}

}  // namespace

absl::StatusOr<v1::ListImagesResponse> StoreImageBackend::ListImages(
    const v1::ListImagesRequest& request) {
  v1::ListImagesResponse response;
  const std::string& wanted = request.filter().image().image();
  if (!wanted.empty()) {
    auto found = store_->Find(wanted);
    if (found.ok()) FillImage(*found, store_->IsPinned(*found), response.add_images());
    return response;
  }
  for (const image::ImageRecord& record : store_->List()) {
    FillImage(record, store_->IsPinned(record), response.add_images());
  }
  return response;
}

absl::StatusOr<v1::ImageStatusResponse> StoreImageBackend::ImageStatus(
    const v1::ImageStatusRequest& request) {
  BERTH_RETURN_IF_ERROR(RequireImage(request.image()));
  v1::ImageStatusResponse response;
  auto found = store_->Find(request.image().image());
  if (absl::IsNotFound(found.status())) return response;
  if (!found.ok()) return found.status();
  FillImage(*found, store_->IsPinned(*found), response.mutable_image());
  if (request.verbose()) (*response.mutable_info())["info"] = VerboseInfo(*store_, *found).dump();
  return response;
}

absl::StatusOr<v1::PullImageResponse> StoreImageBackend::PullImage(
    const v1::PullImageRequest& request) {
  BERTH_RETURN_IF_ERROR(RequireImage(request.image()));
  const v1::AuthConfig& auth = request.auth();
  image::PullOptions options;
  options.credentials.username = auth.username();
  options.credentials.password = auth.password();
  options.credentials.auth = auth.auth();
  options.credentials.identity_token = auth.identity_token();
  options.credentials.registry_token = auth.registry_token();
  // Downloads poll this from their own threads while this handler waits for the pull, so the
  // call context outlives every poll.
  const CallContext* call = CallContext::Current();
  options.cancelled = [call] { return call != nullptr && call->IsCancelled(); };
  BERTH_ASSIGN_OR_RETURN(image::ImageRecord record,
                         store_->Pull(request.image().image(), options));
  v1::PullImageResponse response;
  response.set_image_ref(record.id);
  return response;
}

absl::StatusOr<v1::RemoveImageResponse> StoreImageBackend::RemoveImage(
    const v1::RemoveImageRequest& request) {
  BERTH_RETURN_IF_ERROR(RequireImage(request.image()));
  // By id the whole image goes; by tag or digest only that name, and the image with its last
  // name. Images that containers use or that are pinned are FailedPrecondition.
  absl::Status removed = store_->Remove(request.image().image());
  if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
  return v1::RemoveImageResponse();
}

absl::StatusOr<v1::ImageFsInfoResponse> StoreImageBackend::ImageFsInfo(
    const v1::ImageFsInfoRequest&) {
  v1::ImageFsInfoResponse response;
  BERTH_ASSIGN_OR_RETURN(image::FsUsage images, store_->Usage());
  FillUsage(images, response.add_image_filesystems());

  image::FsUsage containers;
  containers.timestamp = NowNanos();
  containers.mountpoint = containers_dir_;
  BERTH_ASSIGN_OR_RETURN(image::TreeUsage tree, image::MeasureTree(containers_dir_));
  containers.used_bytes = tree.bytes;
  containers.inodes_used = tree.inodes;
  FillUsage(containers, response.add_container_filesystems());
  return response;
}

}  // namespace berth::cri
