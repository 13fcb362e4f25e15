// PodBackend: the container RPCs.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "cri/pod_backend.h"
#include "cri/validate.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

// The longest ExecSync timeout honoured; CRI's 0 means no timeout, which Berth bounds too, so
// no request can hold a server thread forever.
constexpr absl::Duration kMaxExecTimeout = absl::Hours(24);

v1::ContainerState StateOf(const runtime::ContainerState& state) {
  switch (state.status) {
    case runtime::ContainerStatus::kCreated:
      return v1::CONTAINER_CREATED;
    case runtime::ContainerStatus::kRunning:
      return v1::CONTAINER_RUNNING;
    case runtime::ContainerStatus::kStopped:
      return v1::CONTAINER_EXITED;
    default:
      return v1::CONTAINER_UNKNOWN;
  }
}

bool Matches(const pod::ContainerView& view, const v1::ContainerFilter& filter) {
  if (!filter.id().empty() && view.record.id.rfind(filter.id(), 0) != 0) return false;
  if (!filter.pod_sandbox_id().empty() &&
      view.record.sandbox_id.rfind(filter.pod_sandbox_id(), 0) != 0) {
    return false;
  }
  if (filter.has_state() && filter.state().state() != StateOf(view.state)) return false;
  for (const auto& [key, value] : filter.label_selector()) {
    auto it = view.record.config.labels().find(key);
    if (it == view.record.config.labels().end() || it->second != value) return false;
  }
  return true;
}

// The reason CRI clients expect for an exited container.
std::string ExitReason(const runtime::ContainerState& state) {
  if (state.oom_killed) return "OOMKilled";
  if (!state.reason.empty()) return state.reason;
  return state.exit_code == 0 ? "Completed" : "Error";
}

}  // namespace

absl::StatusOr<v1::CreateContainerResponse> PodBackend::CreateContainer(
    const v1::CreateContainerRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.pod_sandbox_id(), "pod_sandbox_id"));
  BERTH_RETURN_IF_ERROR(ValidateContainerConfig(request.config()));
  BERTH_ASSIGN_OR_RETURN(std::string id,
                         pods_->CreateContainer(request.pod_sandbox_id(), request.config()));
  v1::CreateContainerResponse response;
  response.set_container_id(id);
  return response;
}

absl::StatusOr<v1::StartContainerResponse> PodBackend::StartContainer(
    const v1::StartContainerRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.container_id(), "container_id"));
  BERTH_RETURN_IF_ERROR(pods_->StartContainer(request.container_id()));
  return v1::StartContainerResponse();
}

absl::StatusOr<v1::StopContainerResponse> PodBackend::StopContainer(
    const v1::StopContainerRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.container_id(), "container_id"));
  if (request.timeout() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout ", request.timeout(), " must not be negative"));
  }
  BERTH_RETURN_IF_ERROR(
      pods_->StopContainer(request.container_id(), absl::Seconds(request.timeout())));
  return v1::StopContainerResponse();
}

absl::StatusOr<v1::RemoveContainerResponse> PodBackend::RemoveContainer(
    const v1::RemoveContainerRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.container_id(), "container_id"));
  BERTH_RETURN_IF_ERROR(pods_->RemoveContainer(request.container_id()));
  return v1::RemoveContainerResponse();
}

absl::StatusOr<v1::ListContainersResponse> PodBackend::ListContainers(
    const v1::ListContainersRequest& request) {
  v1::ListContainersResponse response;
  for (const pod::ContainerView& view : pods_->ListContainers()) {
    if (request.has_filter() && !Matches(view, request.filter())) continue;
    const pod::ContainerRecord& record = view.record;
    v1::Container* item = response.add_containers();
    item->set_id(record.id);
    item->set_pod_sandbox_id(record.sandbox_id);
    *item->mutable_metadata() = record.config.metadata();
    *item->mutable_image() = record.config.image();
    item->set_image_ref(record.image_id);
    item->set_image_id(record.image_id);
    item->set_state(StateOf(view.state));
    item->set_created_at(record.created_at);
    *item->mutable_labels() = record.config.labels();
    *item->mutable_annotations() = record.config.annotations();
  }
  return response;
}

absl::StatusOr<v1::ContainerStatusResponse> PodBackend::ContainerStatus(
    const v1::ContainerStatusRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.container_id(), "container_id"));
  BERTH_ASSIGN_OR_RETURN(pod::ContainerView view, pods_->GetContainer(request.container_id()));
  const pod::ContainerRecord& record = view.record;
  const runtime::ContainerState& state = view.state;

  v1::ContainerStatusResponse response;
  v1::ContainerStatus* status = response.mutable_status();
  status->set_id(record.id);
  *status->mutable_metadata() = record.config.metadata();
  status->set_state(StateOf(state));
  status->set_created_at(record.created_at);
  status->set_started_at(state.started_at);
  status->set_finished_at(state.finished_at);
  if (state.status == runtime::ContainerStatus::kStopped) {
    status->set_exit_code(state.exit_code);
    status->set_reason(ExitReason(state));
    status->set_message(state.message);
  }
  *status->mutable_image() = record.config.image();
  status->set_image_ref(record.image_id);
  status->set_image_id(record.image_id);
  *status->mutable_labels() = record.config.labels();
  *status->mutable_annotations() = record.config.annotations();
  *status->mutable_mounts() = record.config.mounts();
  status->set_log_path(record.log_path);
  *status->mutable_resources()->mutable_linux() = record.config.linux().resources();
  absl::StatusOr<runtime::Spec> spec = runtime::ReadSpecFile(JoinPath(record.dir, "config.json"));
  if (spec.ok()) {
    const runtime::User& user = spec->process.user;
    v1::LinuxContainerUser* linux_user = status->mutable_user()->mutable_linux();
    linux_user->set_uid(user.uid);
    linux_user->set_gid(user.gid);
    for (uint32_t gid : user.additional_gids) linux_user->add_supplemental_groups(gid);
  }
  if (request.verbose()) {
    nlohmann::json info = {{"sandboxID", record.sandbox_id},
                           {"pid", state.pid},
                           {"dir", record.dir},
                           {"image", record.image_ref}};
    (*response.mutable_info())["info"] = info.dump();
  }
  return response;
}

absl::StatusOr<v1::ReopenContainerLogResponse> PodBackend::ReopenContainerLog(
    const v1::ReopenContainerLogRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.container_id(), "container_id"));
  BERTH_RETURN_IF_ERROR(pods_->ReopenContainerLog(request.container_id()));
  return v1::ReopenContainerLogResponse();
}

absl::StatusOr<v1::UpdateContainerResourcesResponse> PodBackend::UpdateContainerResources(
    const v1::UpdateContainerResourcesRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.container_id(), "container_id"));
  BERTH_RETURN_IF_ERROR(ValidateUpdatedResources(request.linux()));
  BERTH_RETURN_IF_ERROR(pods_->UpdateContainerResources(request.container_id(), request.linux()));
  return v1::UpdateContainerResourcesResponse();
}

absl::StatusOr<v1::ExecSyncResponse> PodBackend::ExecSync(const v1::ExecSyncRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.container_id(), "container_id"));
  if (request.cmd().empty()) return absl::InvalidArgumentError("cmd is missing or empty");
  if (request.timeout() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout ", request.timeout(), " must not be negative"));
  }
  absl::Duration timeout =
      request.timeout() == 0 ? kMaxExecTimeout : absl::Seconds(request.timeout());
  std::vector<std::string> cmd(request.cmd().begin(), request.cmd().end());
  BERTH_ASSIGN_OR_RETURN(pod::ExecOutput output,
                         pods_->ExecSync(request.container_id(), cmd, timeout));
  v1::ExecSyncResponse response;
  response.set_stdout(std::move(output.stdout_data));
  response.set_stderr(std::move(output.stderr_data));
  response.set_exit_code(output.exit_code);
  return response;
}

}  // namespace berth::cri
