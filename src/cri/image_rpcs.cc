// StoreImageBackend: the image RPCs.
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status.h"
#include "cri/call_context.h"
#include "cri/store_image_backend.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

void FillImage(const image::ImageRecord& record, v1::Image* out) {
  out->set_id(record.id);
  for (const std::string& tag : record.repo_tags) out->add_repo_tags(tag);
  for (const std::string& digest : record.repo_digests) out->add_repo_digests(digest);
  out->set_size(static_cast<uint64_t>(record.size));
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

}  // namespace

absl::StatusOr<v1::ListImagesResponse> StoreImageBackend::ListImages(
    const v1::ListImagesRequest& request) {
  v1::ListImagesResponse response;
  const std::string& wanted = request.filter().image().image();
  if (!wanted.empty()) {
    auto found = store_->Find(wanted);
    if (found.ok()) FillImage(*found, response.add_images());
    return response;
  }
  for (const image::ImageRecord& record : store_->List()) FillImage(record, response.add_images());
  return response;
}

absl::StatusOr<v1::ImageStatusResponse> StoreImageBackend::ImageStatus(
    const v1::ImageStatusRequest& request) {
  BERTH_RETURN_IF_ERROR(RequireImage(request.image()));
  v1::ImageStatusResponse response;
  auto found = store_->Find(request.image().image());
  if (absl::IsNotFound(found.status())) return response;
  if (!found.ok()) return found.status();
  FillImage(*found, response.mutable_image());
  if (request.verbose()) {
    nlohmann::json info = {{"manifestDigest", found->manifest_digest},
                           {"chainIDs", found->chain_ids},
                           {"snapshots", found->snapshot_dirs},
                           {"config", image::ImageConfigToJson(found->config)}};
    (*response.mutable_info())["info"] = info.dump();
  }
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
  auto found = store_->Find(request.image().image());
  if (absl::IsNotFound(found.status())) return v1::RemoveImageResponse();
  if (!found.ok()) return found.status();
  std::vector<std::string> users = users_ ? users_(found->id) : std::vector<std::string>{};
  if (!users.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "image ", found->id, " is in use by container ", users.front(),
        users.size() > 1 ? absl::StrCat(" and ", users.size() - 1, " more") : std::string(),
        "; remove the containers first"));
  }
  absl::Status removed = store_->Remove(found->id);
  if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
  return v1::RemoveImageResponse();
}

absl::StatusOr<v1::ImageFsInfoResponse> StoreImageBackend::ImageFsInfo(
    const v1::ImageFsInfoRequest&) {
  BERTH_ASSIGN_OR_RETURN(image::FsUsage usage, store_->Usage());
  v1::ImageFsInfoResponse response;
  v1::FilesystemUsage* fs = response.add_image_filesystems();
  fs->set_timestamp(NowNanos());
  fs->mutable_fs_id()->set_mountpoint(usage.mountpoint);
  fs->mutable_used_bytes()->set_value(usage.used_bytes);
  fs->mutable_inodes_used()->set_value(usage.inodes_used);
  return response;
}

}  // namespace berth::cri
