#include "cri/backend.h"

#include "absl/strings/str_cat.h"

namespace berth::cri {

absl::Status UnimplementedRpc(const char* service, const char* rpc) {
  return absl::UnimplementedError(
      absl::StrCat("runtime.v1.", service, "/", rpc, " is not implemented by berth"));
}

// Each default returns Unimplemented naming its RPC, so a backend overrides only what it has.
#define BERTH_DEFAULT_UNARY(Backend, Service, Rpc, Request, Response)               \
  absl::StatusOr<runtime::v1::Response> Backend::Rpc(const runtime::v1::Request&) { \
    return UnimplementedRpc(Service, #Rpc);                                         \
  }
#define BERTH_DEFAULT_STREAM(Backend, Service, Rpc, Request, Response)                             \
  absl::Status Backend::Rpc(const runtime::v1::Request&, ResponseWriter<runtime::v1::Response>&) { \
    return UnimplementedRpc(Service, #Rpc);                                                        \
  }

#define RUNTIME_UNARY(Rpc, Request, Response) \
  BERTH_DEFAULT_UNARY(RuntimeBackend, "RuntimeService", Rpc, Request, Response)
#define RUNTIME_STREAM(Rpc, Request, Response) \
  BERTH_DEFAULT_STREAM(RuntimeBackend, "RuntimeService", Rpc, Request, Response)

RUNTIME_UNARY(RunPodSandbox, RunPodSandboxRequest, RunPodSandboxResponse)
RUNTIME_UNARY(StopPodSandbox, StopPodSandboxRequest, StopPodSandboxResponse)
RUNTIME_UNARY(RemovePodSandbox, RemovePodSandboxRequest, RemovePodSandboxResponse)
RUNTIME_UNARY(PodSandboxStatus, PodSandboxStatusRequest, PodSandboxStatusResponse)
RUNTIME_UNARY(ListPodSandbox, ListPodSandboxRequest, ListPodSandboxResponse)
RUNTIME_STREAM(StreamPodSandboxes, StreamPodSandboxesRequest, StreamPodSandboxesResponse)
RUNTIME_UNARY(UpdatePodSandboxResources, UpdatePodSandboxResourcesRequest,
              UpdatePodSandboxResourcesResponse)
RUNTIME_UNARY(CreateContainer, CreateContainerRequest, CreateContainerResponse)
RUNTIME_UNARY(StartContainer, StartContainerRequest, StartContainerResponse)
RUNTIME_UNARY(StopContainer, StopContainerRequest, StopContainerResponse)
RUNTIME_UNARY(RemoveContainer, RemoveContainerRequest, RemoveContainerResponse)
RUNTIME_UNARY(ListContainers, ListContainersRequest, ListContainersResponse)
RUNTIME_STREAM(StreamContainers, StreamContainersRequest, StreamContainersResponse)
RUNTIME_UNARY(ContainerStatus, ContainerStatusRequest, ContainerStatusResponse)
RUNTIME_UNARY(UpdateContainerResources, UpdateContainerResourcesRequest,
              UpdateContainerResourcesResponse)
RUNTIME_UNARY(ReopenContainerLog, ReopenContainerLogRequest, ReopenContainerLogResponse)
RUNTIME_UNARY(ExecSync, ExecSyncRequest, ExecSyncResponse)
RUNTIME_UNARY(Exec, ExecRequest, ExecResponse)
RUNTIME_UNARY(Attach, AttachRequest, AttachResponse)
RUNTIME_UNARY(PortForward, PortForwardRequest, PortForwardResponse)
RUNTIME_UNARY(ContainerStats, ContainerStatsRequest, ContainerStatsResponse)
RUNTIME_UNARY(ListContainerStats, ListContainerStatsRequest, ListContainerStatsResponse)
RUNTIME_STREAM(StreamContainerStats, StreamContainerStatsRequest, StreamContainerStatsResponse)
RUNTIME_UNARY(PodSandboxStats, PodSandboxStatsRequest, PodSandboxStatsResponse)
RUNTIME_UNARY(ListPodSandboxStats, ListPodSandboxStatsRequest, ListPodSandboxStatsResponse)
RUNTIME_STREAM(StreamPodSandboxStats, StreamPodSandboxStatsRequest, StreamPodSandboxStatsResponse)
RUNTIME_UNARY(UpdateRuntimeConfig, UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse)
RUNTIME_UNARY(CheckpointContainer, CheckpointContainerRequest, CheckpointContainerResponse)
RUNTIME_UNARY(CheckpointPod, CheckpointPodRequest, CheckpointPodResponse)
RUNTIME_UNARY(RestorePod, RestorePodRequest, RestorePodResponse)
RUNTIME_STREAM(GetContainerEvents, GetEventsRequest, ContainerEventResponse)
RUNTIME_UNARY(ListMetricDescriptors, ListMetricDescriptorsRequest, ListMetricDescriptorsResponse)
RUNTIME_UNARY(ListPodSandboxMetrics, ListPodSandboxMetricsRequest, ListPodSandboxMetricsResponse)
RUNTIME_STREAM(StreamPodSandboxMetrics, StreamPodSandboxMetricsRequest,
               StreamPodSandboxMetricsResponse)

#define IMAGE_UNARY(Rpc, Request, Response) \
  BERTH_DEFAULT_UNARY(ImageBackend, "ImageService", Rpc, Request, Response)

IMAGE_UNARY(ListImages, ListImagesRequest, ListImagesResponse)
BERTH_DEFAULT_STREAM(ImageBackend, "ImageService", StreamImages, StreamImagesRequest,
                     StreamImagesResponse)
IMAGE_UNARY(ImageStatus, ImageStatusRequest, ImageStatusResponse)
IMAGE_UNARY(PullImage, PullImageRequest, PullImageResponse)
IMAGE_UNARY(RemoveImage, RemoveImageRequest, RemoveImageResponse)
IMAGE_UNARY(ImageFsInfo, ImageFsInfoRequest, ImageFsInfoResponse)

}  // namespace berth::cri
