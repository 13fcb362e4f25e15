// The RuntimeService backend of berthd: validates CRI requests, hands them to pod::PodManager
// and turns its records and states into CRI messages.
#pragma once

#include "cri/backend.h"
#include "pod/pod_manager.h"

namespace berth::cri {

class PodBackend : public RuntimeBackend {
 public:
  // `pods` must outlive the backend.
  explicit PodBackend(pod::PodManager* pods) : pods_(pods) {}

  absl::StatusOr<::runtime::v1::RunPodSandboxResponse> RunPodSandbox(
      const ::runtime::v1::RunPodSandboxRequest& request) override;
  absl::StatusOr<::runtime::v1::StopPodSandboxResponse> StopPodSandbox(
      const ::runtime::v1::StopPodSandboxRequest& request) override;
  absl::StatusOr<::runtime::v1::RemovePodSandboxResponse> RemovePodSandbox(
      const ::runtime::v1::RemovePodSandboxRequest& request) override;
  absl::StatusOr<::runtime::v1::PodSandboxStatusResponse> PodSandboxStatus(
      const ::runtime::v1::PodSandboxStatusRequest& request) override;
  absl::StatusOr<::runtime::v1::ListPodSandboxResponse> ListPodSandbox(
      const ::runtime::v1::ListPodSandboxRequest& request) override;
  absl::StatusOr<::runtime::v1::UpdateRuntimeConfigResponse> UpdateRuntimeConfig(
      const ::runtime::v1::UpdateRuntimeConfigRequest& request) override;

  absl::StatusOr<::runtime::v1::CreateContainerResponse> CreateContainer(
      const ::runtime::v1::CreateContainerRequest& request) override;
  absl::StatusOr<::runtime::v1::StartContainerResponse> StartContainer(
      const ::runtime::v1::StartContainerRequest& request) override;
  absl::StatusOr<::runtime::v1::StopContainerResponse> StopContainer(
      const ::runtime::v1::StopContainerRequest& request) override;
  absl::StatusOr<::runtime::v1::RemoveContainerResponse> RemoveContainer(
      const ::runtime::v1::RemoveContainerRequest& request) override;
  absl::StatusOr<::runtime::v1::ListContainersResponse> ListContainers(
      const ::runtime::v1::ListContainersRequest& request) override;
  absl::StatusOr<::runtime::v1::ContainerStatusResponse> ContainerStatus(
      const ::runtime::v1::ContainerStatusRequest& request) override;
  absl::StatusOr<::runtime::v1::ReopenContainerLogResponse> ReopenContainerLog(
      const ::runtime::v1::ReopenContainerLogRequest& request) override;
  absl::StatusOr<::runtime::v1::ExecSyncResponse> ExecSync(
      const ::runtime::v1::ExecSyncRequest& request) override;
  absl::StatusOr<::runtime::v1::UpdateContainerResourcesResponse> UpdateContainerResources(
      const ::runtime::v1::UpdateContainerResourcesRequest& request) override;

 private:
  pod::PodManager* pods_;
};

}  // namespace berth::cri
