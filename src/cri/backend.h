// The seam between Berth's gRPC plumbing (src/cri/) and its domain code (src/pod/).
//
// RuntimeServiceImpl and ImageServiceImpl (runtime_service.h, image_service.h) own everything
// that is about gRPC: the readiness gate, request ids, logging, catching exceptions and turning
// absl::Status into grpc::Status. For the work itself they call one of the two interfaces below,
// which speak only in CRI messages and absl::Status, so the domain can implement and test them
// without a server:
//
//   class PodRuntime : public berth::cri::RuntimeBackend {
//    public:
//     absl::StatusOr<runtime::v1::RunPodSandboxResponse> RunPodSandbox(
//         const runtime::v1::RunPodSandboxRequest& request) override;
//     ...
//   };
//
// Every method has a default that returns Unimplemented naming the RPC, e.g.
// "runtime.v1.RuntimeService/Attach is not implemented by berth", so a backend overrides only
// what it has built. The status code a method returns reaches the client unchanged, because absl
// and gRPC codes share their numbers. The message reaches it as is too, so it should name the
// object and the failed step. Methods report errors by status, not by throwing: the service catches
// any exception and returns INTERNAL so that berthd survives, but an exception there is a bug.
//
// Methods are called concurrently from the server's thread pool; a backend guards its own
// state. CallContext::Current() (call_context.h) gives the request id, deadline and
// cancellation of the call being served.
//
// Version, Status and RuntimeConfig are answered by RuntimeServiceImpl itself (they describe
// the daemon, not pods), so they do not appear in RuntimeBackend.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/v1/api.pb.h"

namespace berth::cri {

// Where a server-streaming method sends its responses.
template <typename Message>
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // Sends one response. Returns false once the stream is broken (the client went away or the
  // server is shutting down); the method should then stop and return.
  virtual bool Write(const Message& message) = 0;

  // True once the client cancelled the call or its deadline passed, or the server is shutting
  // down. Long-lived streams (GetContainerEvents) poll this between events.
  virtual bool IsCancelled() const = 0;
};

// The work behind runtime.v1.RuntimeService, except Version, Status and RuntimeConfig.
// Unary methods return the response or an error; streaming methods write responses to `out`
// and return the final status of the stream.
class RuntimeBackend {
 public:
  virtual ~RuntimeBackend() = default;

  // Pod sandboxes.
  virtual absl::StatusOr<runtime::v1::RunPodSandboxResponse> RunPodSandbox(
      const runtime::v1::RunPodSandboxRequest& request);
  virtual absl::StatusOr<runtime::v1::StopPodSandboxResponse> StopPodSandbox(
      const runtime::v1::StopPodSandboxRequest& request);
  virtual absl::StatusOr<runtime::v1::RemovePodSandboxResponse> RemovePodSandbox(
      const runtime::v1::RemovePodSandboxRequest& request);
  virtual absl::StatusOr<runtime::v1::PodSandboxStatusResponse> PodSandboxStatus(
      const runtime::v1::PodSandboxStatusRequest& request);
  virtual absl::StatusOr<runtime::v1::ListPodSandboxResponse> ListPodSandbox(
      const runtime::v1::ListPodSandboxRequest& request);
  virtual absl::Status StreamPodSandboxes(
      const runtime::v1::StreamPodSandboxesRequest& request,
      ResponseWriter<runtime::v1::StreamPodSandboxesResponse>& out);
  virtual absl::StatusOr<runtime::v1::UpdatePodSandboxResourcesResponse> UpdatePodSandboxResources(
      const runtime::v1::UpdatePodSandboxResourcesRequest& request);

  // Containers.
  virtual absl::StatusOr<runtime::v1::CreateContainerResponse> CreateContainer(
      const runtime::v1::CreateContainerRequest& request);
  virtual absl::StatusOr<runtime::v1::StartContainerResponse> StartContainer(
      const runtime::v1::StartContainerRequest& request);
  virtual absl::StatusOr<runtime::v1::StopContainerResponse> StopContainer(
      const runtime::v1::StopContainerRequest& request);
  virtual absl::StatusOr<runtime::v1::RemoveContainerResponse> RemoveContainer(
      const runtime::v1::RemoveContainerRequest& request);
  virtual absl::StatusOr<runtime::v1::ListContainersResponse> ListContainers(
      const runtime::v1::ListContainersRequest& request);
  virtual absl::Status StreamContainers(const runtime::v1::StreamContainersRequest& request,
                                        ResponseWriter<runtime::v1::StreamContainersResponse>& out);
  virtual absl::StatusOr<runtime::v1::ContainerStatusResponse> ContainerStatus(
      const runtime::v1::ContainerStatusRequest& request);
  virtual absl::StatusOr<runtime::v1::UpdateContainerResourcesResponse> UpdateContainerResources(
      const runtime::v1::UpdateContainerResourcesRequest& request);
  virtual absl::StatusOr<runtime::v1::ReopenContainerLogResponse> ReopenContainerLog(
      const runtime::v1::ReopenContainerLogRequest& request);

  // Exec, attach and port forwarding.
  virtual absl::StatusOr<runtime::v1::ExecSyncResponse> ExecSync(
      const runtime::v1::ExecSyncRequest& request);
  virtual absl::StatusOr<runtime::v1::ExecResponse> Exec(const runtime::v1::ExecRequest& request);
  virtual absl::StatusOr<runtime::v1::AttachResponse> Attach(
      const runtime::v1::AttachRequest& request);
  virtual absl::StatusOr<runtime::v1::PortForwardResponse> PortForward(
      const runtime::v1::PortForwardRequest& request);

  // Statistics.
  virtual absl::StatusOr<runtime::v1::ContainerStatsResponse> ContainerStats(
      const runtime::v1::ContainerStatsRequest& request);
  virtual absl::StatusOr<runtime::v1::ListContainerStatsResponse> ListContainerStats(
      const runtime::v1::ListContainerStatsRequest& request);
  virtual absl::Status StreamContainerStats(
      const runtime::v1::StreamContainerStatsRequest& request,
      ResponseWriter<runtime::v1::StreamContainerStatsResponse>& out);
  virtual absl::StatusOr<runtime::v1::PodSandboxStatsResponse> PodSandboxStats(
      const runtime::v1::PodSandboxStatsRequest& request);
  virtual absl::StatusOr<runtime::v1::ListPodSandboxStatsResponse> ListPodSandboxStats(
      const runtime::v1::ListPodSandboxStatsRequest& request);
  virtual absl::Status StreamPodSandboxStats(
      const runtime::v1::StreamPodSandboxStatsRequest& request,
      ResponseWriter<runtime::v1::StreamPodSandboxStatsResponse>& out);

  // Runtime-wide settings handed down by the kubelet (pod CIDR).
  virtual absl::StatusOr<runtime::v1::UpdateRuntimeConfigResponse> UpdateRuntimeConfig(
      const runtime::v1::UpdateRuntimeConfigRequest& request);

  // Checkpoints.
  virtual absl::StatusOr<runtime::v1::CheckpointContainerResponse> CheckpointContainer(
      const runtime::v1::CheckpointContainerRequest& request);
  virtual absl::StatusOr<runtime::v1::CheckpointPodResponse> CheckpointPod(
      const runtime::v1::CheckpointPodRequest& request);
  virtual absl::StatusOr<runtime::v1::RestorePodResponse> RestorePod(
      const runtime::v1::RestorePodRequest& request);

  // Events and metrics. GetContainerEvents runs until the client cancels (poll
  // out.IsCancelled()) or a Write fails.
  virtual absl::Status GetContainerEvents(const runtime::v1::GetEventsRequest& request,
                                          ResponseWriter<runtime::v1::ContainerEventResponse>& out);
  virtual absl::StatusOr<runtime::v1::ListMetricDescriptorsResponse> ListMetricDescriptors(
      const runtime::v1::ListMetricDescriptorsRequest& request);
  virtual absl::StatusOr<runtime::v1::ListPodSandboxMetricsResponse> ListPodSandboxMetrics(
      const runtime::v1::ListPodSandboxMetricsRequest& request);
  virtual absl::Status StreamPodSandboxMetrics(
      const runtime::v1::StreamPodSandboxMetricsRequest& request,
      ResponseWriter<runtime::v1::StreamPodSandboxMetricsResponse>& out);
};

// The work behind runtime.v1.ImageService.
class ImageBackend {
 public:
  virtual ~ImageBackend() = default;

  virtual absl::StatusOr<runtime::v1::ListImagesResponse> ListImages(
      const runtime::v1::ListImagesRequest& request);
  virtual absl::Status StreamImages(const runtime::v1::StreamImagesRequest& request,
                                    ResponseWriter<runtime::v1::StreamImagesResponse>& out);
  // An absent image is an OK response with no image set, as CRI requires.
  virtual absl::StatusOr<runtime::v1::ImageStatusResponse> ImageStatus(
      const runtime::v1::ImageStatusRequest& request);
  virtual absl::StatusOr<runtime::v1::PullImageResponse> PullImage(
      const runtime::v1::PullImageRequest& request);
  // An absent image is success, as CRI requires.
  virtual absl::StatusOr<runtime::v1::RemoveImageResponse> RemoveImage(
      const runtime::v1::RemoveImageRequest& request);
  virtual absl::StatusOr<runtime::v1::ImageFsInfoResponse> ImageFsInfo(
      const runtime::v1::ImageFsInfoRequest& request);
};

// Returns Unimplemented "runtime.v1.<service>/<rpc> is not implemented by berth".
absl::Status UnimplementedRpc(const char* service, const char* rpc);

}  // namespace berth::cri
