#include "cri/runtime_service.h"

#include <utility>

namespace berth::cri {

RuntimeServiceImpl::RuntimeServiceImpl(RuntimeBackend& backend, const ServingState& state,
                                       std::function<NetworkCondition()> network_condition,
                                       runtime::v1::CgroupDriver cgroup_driver)
    : backend_(backend),
      state_(state),
      network_condition_(std::move(network_condition)),
      cgroup_driver_(cgroup_driver) {}

// Each method hands its request to the backend method of the same name through the wrapper.
#define BERTH_RUNTIME_UNARY(Rpc, Request, Response, Kind)                                 \
  grpc::Status RuntimeServiceImpl::Rpc(grpc::ServerContext* context,                      \
                                       const runtime::v1::Request* request,               \
                                       runtime::v1::Response* response) {                 \
    static constexpr RpcInfo kRpc{"runtime.v1.RuntimeService/" #Rpc, RpcKind::Kind};      \
    return ServeUnary(kRpc, state_, context, *request, response,                          \
                      [this](const runtime::v1::Request& r) { return backend_.Rpc(r); }); \
  }

#define BERTH_RUNTIME_STREAM(Rpc, Request, Response, Kind)                                  \
  grpc::Status RuntimeServiceImpl::Rpc(grpc::ServerContext* context,                        \
                                       const runtime::v1::Request* request,                 \
                                       grpc::ServerWriter<runtime::v1::Response>* writer) { \
    static constexpr RpcInfo kRpc{"runtime.v1.RuntimeService/" #Rpc, RpcKind::Kind};        \
    return ServeStream(                                                                     \
        kRpc, state_, context, *request, writer,                                            \
        [this](const runtime::v1::Request& r, ResponseWriter<runtime::v1::Response>& out) { \
          return backend_.Rpc(r, out);                                                      \
        });                                                                                 \
  }

// Pod sandboxes.
BERTH_RUNTIME_UNARY(RunPodSandbox, RunPodSandboxRequest, RunPodSandboxResponse, kChange)
BERTH_RUNTIME_UNARY(StopPodSandbox, StopPodSandboxRequest, StopPodSandboxResponse, kChange)
BERTH_RUNTIME_UNARY(RemovePodSandbox, RemovePodSandboxRequest, RemovePodSandboxResponse, kChange)
BERTH_RUNTIME_UNARY(PodSandboxStatus, PodSandboxStatusRequest, PodSandboxStatusResponse, kRead)
BERTH_RUNTIME_UNARY(ListPodSandbox, ListPodSandboxRequest, ListPodSandboxResponse, kRead)
BERTH_RUNTIME_STREAM(StreamPodSandboxes, StreamPodSandboxesRequest, StreamPodSandboxesResponse,
                     kRead)
BERTH_RUNTIME_UNARY(UpdatePodSandboxResources, UpdatePodSandboxResourcesRequest,
                    UpdatePodSandboxResourcesResponse, kChange)

// Containers.
BERTH_RUNTIME_UNARY(CreateContainer, CreateContainerRequest, CreateContainerResponse, kChange)
BERTH_RUNTIME_UNARY(StartContainer, StartContainerRequest, StartContainerResponse, kChange)
BERTH_RUNTIME_UNARY(StopContainer, StopContainerRequest, StopContainerResponse, kChange)
BERTH_RUNTIME_UNARY(RemoveContainer, RemoveContainerRequest, RemoveContainerResponse, kChange)
BERTH_RUNTIME_UNARY(ListContainers, ListContainersRequest, ListContainersResponse, kRead)
BERTH_RUNTIME_STREAM(StreamContainers, StreamContainersRequest, StreamContainersResponse, kRead)
BERTH_RUNTIME_UNARY(ContainerStatus, ContainerStatusRequest, ContainerStatusResponse, kRead)
BERTH_RUNTIME_UNARY(UpdateContainerResources, UpdateContainerResourcesRequest,
                    UpdateContainerResourcesResponse, kChange)
BERTH_RUNTIME_UNARY(ReopenContainerLog, ReopenContainerLogRequest, ReopenContainerLogResponse,
                    kChange)

// Exec, attach and port forwarding. ExecSync counts as a read: exec probes call it every few
// seconds and would flood the info log.
BERTH_RUNTIME_UNARY(ExecSync, ExecSyncRequest, ExecSyncResponse, kRead)
BERTH_RUNTIME_UNARY(Exec, ExecRequest, ExecResponse, kChange)
BERTH_RUNTIME_UNARY(Attach, AttachRequest, AttachResponse, kChange)
BERTH_RUNTIME_UNARY(PortForward, PortForwardRequest, PortForwardResponse, kChange)

// Statistics.
BERTH_RUNTIME_UNARY(ContainerStats, ContainerStatsRequest, ContainerStatsResponse, kRead)
BERTH_RUNTIME_UNARY(ListContainerStats, ListContainerStatsRequest, ListContainerStatsResponse,
                    kRead)
BERTH_RUNTIME_STREAM(StreamContainerStats, StreamContainerStatsRequest,
                     StreamContainerStatsResponse, kRead)
BERTH_RUNTIME_UNARY(PodSandboxStats, PodSandboxStatsRequest, PodSandboxStatsResponse, kRead)
BERTH_RUNTIME_UNARY(ListPodSandboxStats, ListPodSandboxStatsRequest, ListPodSandboxStatsResponse,
                    kRead)
BERTH_RUNTIME_STREAM(StreamPodSandboxStats, StreamPodSandboxStatsRequest,
                     StreamPodSandboxStatsResponse, kRead)

// Runtime-wide settings and checkpoints.
BERTH_RUNTIME_UNARY(UpdateRuntimeConfig, UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse,
                    kChange)
BERTH_RUNTIME_UNARY(CheckpointContainer, CheckpointContainerRequest, CheckpointContainerResponse,
                    kChange)
BERTH_RUNTIME_UNARY(CheckpointPod, CheckpointPodRequest, CheckpointPodResponse, kChange)
BERTH_RUNTIME_UNARY(RestorePod, RestorePodRequest, RestorePodResponse, kChange)

// Events and metrics.
BERTH_RUNTIME_STREAM(GetContainerEvents, GetEventsRequest, ContainerEventResponse, kRead)
BERTH_RUNTIME_UNARY(ListMetricDescriptors, ListMetricDescriptorsRequest,
                    ListMetricDescriptorsResponse, kRead)
BERTH_RUNTIME_UNARY(ListPodSandboxMetrics, ListPodSandboxMetricsRequest,
                    ListPodSandboxMetricsResponse, kRead)
BERTH_RUNTIME_STREAM(StreamPodSandboxMetrics, StreamPodSandboxMetricsRequest,
                     StreamPodSandboxMetricsResponse, kRead)

// The daemon's own facts.

grpc::Status RuntimeServiceImpl::Version(grpc::ServerContext* context,
                                         const runtime::v1::VersionRequest* request,
                                         runtime::v1::VersionResponse* response) {
  static constexpr RpcInfo kRpc{"runtime.v1.RuntimeService/Version", RpcKind::kRead};
  return ServeUnary(
      kRpc, state_, context, *request, response,
      [](const runtime::v1::VersionRequest&) -> absl::StatusOr<runtime::v1::VersionResponse> {
        return MakeVersionResponse();
      });
}

grpc::Status RuntimeServiceImpl::Status(grpc::ServerContext* context,
                                        const runtime::v1::StatusRequest* request,
                                        runtime::v1::StatusResponse* response) {
  static constexpr RpcInfo kRpc{"runtime.v1.RuntimeService/Status", RpcKind::kRead};
  return ServeUnary(
      kRpc, state_, context, *request, response,
      [this](const runtime::v1::StatusRequest&) -> absl::StatusOr<runtime::v1::StatusResponse> {
        NetworkCondition network{false, "NetworkPluginNotReady",
                                 "berth: network readiness is not reported"};
        if (network_condition_) network = network_condition_();
        return MakeStatusResponse(network);
      });
}

grpc::Status RuntimeServiceImpl::RuntimeConfig(grpc::ServerContext* context,
                                               const runtime::v1::RuntimeConfigRequest* request,
                                               runtime::v1::RuntimeConfigResponse* response) {
  static constexpr RpcInfo kRpc{"runtime.v1.RuntimeService/RuntimeConfig", RpcKind::kRead};
  return ServeUnary(kRpc, state_, context, *request, response,
                    [this](const runtime::v1::RuntimeConfigRequest&)
                        -> absl::StatusOr<runtime::v1::RuntimeConfigResponse> {
                      return MakeRuntimeConfigResponse(cgroup_driver_);
                    });
}

}  // namespace berth::cri
