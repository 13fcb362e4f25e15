// PodBackend: the pod sandbox RPCs.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "cri/pod_backend.h"
#include "cri/validate.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

v1::PodSandboxState StateOf(const pod::SandboxView& view) {
  return view.ready ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY;
}

bool LabelsMatch(const google::protobuf::Map<std::string, std::string>& labels,
                 const google::protobuf::Map<std::string, std::string>& selector) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

bool Matches(const pod::SandboxView& view, const v1::PodSandboxFilter& filter) {
  if (!filter.id().empty() && view.record.id.rfind(filter.id(), 0) != 0) return false;
  if (filter.has_state() && filter.state().state() != StateOf(view)) return false;
  return LabelsMatch(view.record.config.labels(), filter.label_selector());
}

}  // namespace

absl::StatusOr<v1::RunPodSandboxResponse> PodBackend::RunPodSandbox(
    const v1::RunPodSandboxRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidatePodSandboxConfig(request.config()));
  BERTH_RETURN_IF_ERROR(ValidateRuntimeHandler(request.runtime_handler()));
  BERTH_ASSIGN_OR_RETURN(std::string id,
                         pods_->RunPodSandbox(request.config(), request.runtime_handler()));
  v1::RunPodSandboxResponse response;
  response.set_pod_sandbox_id(id);
  return response;
}

absl::StatusOr<v1::StopPodSandboxResponse> PodBackend::StopPodSandbox(
    const v1::StopPodSandboxRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.pod_sandbox_id(), "pod_sandbox_id"));
  BERTH_RETURN_IF_ERROR(pods_->StopPodSandbox(request.pod_sandbox_id()));
  return v1::StopPodSandboxResponse();
}

absl::StatusOr<v1::RemovePodSandboxResponse> PodBackend::RemovePodSandbox(
    const v1::RemovePodSandboxRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.pod_sandbox_id(), "pod_sandbox_id"));
  BERTH_RETURN_IF_ERROR(pods_->RemovePodSandbox(request.pod_sandbox_id()));
  return v1::RemovePodSandboxResponse();
}

absl::StatusOr<v1::PodSandboxStatusResponse> PodBackend::PodSandboxStatus(
    const v1::PodSandboxStatusRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.pod_sandbox_id(), "pod_sandbox_id"));
  BERTH_ASSIGN_OR_RETURN(pod::SandboxView view, pods_->GetSandbox(request.pod_sandbox_id()));
  const pod::SandboxRecord& record = view.record;

  v1::PodSandboxStatusResponse response;
  v1::PodSandboxStatus* status = response.mutable_status();
  status->set_id(record.id);
  *status->mutable_metadata() = record.config.metadata();
  status->set_state(StateOf(view));
  status->set_created_at(record.created_at);
  status->mutable_network()->set_ip(record.ip);
  for (const std::string& ip : record.additional_ips) {
    status->mutable_network()->add_additional_ips()->set_ip(ip);
  }
  *status->mutable_linux()->mutable_namespaces()->mutable_options() =
      record.config.linux().security_context().namespace_options();
  *status->mutable_labels() = record.config.labels();
  *status->mutable_annotations() = record.config.annotations();
  status->set_runtime_handler(record.runtime_handler);
  if (request.verbose()) {
    nlohmann::json info = {{"pid", record.pause_pid},
                           {"netns", record.netns_path},
                           {"cgroup_parent", record.cgroup_parent},
                           {"dir", record.dir}};
    (*response.mutable_info())["info"] = info.dump();
  }
  return response;
}

absl::StatusOr<v1::ListPodSandboxResponse> PodBackend::ListPodSandbox(
    const v1::ListPodSandboxRequest& request) {
  v1::ListPodSandboxResponse response;
  for (const pod::SandboxView& view : pods_->ListSandboxes()) {
    if (request.has_filter() && !Matches(view, request.filter())) continue;
    v1::PodSandbox* item = response.add_items();
    item->set_id(view.record.id);
    *item->mutable_metadata() = view.record.config.metadata();
    item->set_state(StateOf(view));
    item->set_created_at(view.record.created_at);
    *item->mutable_labels() = view.record.config.labels();
    *item->mutable_annotations() = view.record.config.annotations();
    item->set_runtime_handler(view.record.runtime_handler);
  }
  return response;
}

absl::StatusOr<v1::UpdateRuntimeConfigResponse> PodBackend::UpdateRuntimeConfig(
    const v1::UpdateRuntimeConfigRequest& request) {
  const std::string& cidr = request.runtime_config().network_config().pod_cidr();
  absl::Status updated = pods_->UpdatePodCidr(cidr);
  if (!updated.ok()) return Annotate(updated, "runtime_config.network_config.pod_cidr");
  return v1::UpdateRuntimeConfigResponse();
}

}  // namespace berth::cri
