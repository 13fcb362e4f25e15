// The CNI view of a sandbox: what its CRI config requests from the pod network (port mappings,
// bandwidth annotations, DNS), in the terms of src/network/.
#pragma once

#include "absl/status/statusor.h"
#include "network/cni_manager.h"
#include "network/pod_files.h"
#include "pod/records.h"

namespace berth::pod {

// Annotations that limit a pod's bandwidth, as Kubernetes quantities of bits per second.
inline constexpr char kIngressBandwidthAnnotation[] = "kubernetes.io/ingress-bandwidth";
inline constexpr char kEgressBandwidthAnnotation[] = "kubernetes.io/egress-bandwidth";

// The DNS settings of the sandbox's config.
network::DnsSettings DnsOf(const ::runtime::v1::PodSandboxConfig& config);

// True when the sandbox uses the host's network namespace.
bool UsesHostNetwork(const ::runtime::v1::PodSandboxConfig& config);

// Builds the CNI ADD request for `record` (its id, netns and config). Port mappings without a
// host port are left out, as they publish nothing. A bandwidth annotation that is not a
// quantity is InvalidArgument naming the annotation.
absl::StatusOr<network::PodNetworkRequest> PodNetworkRequestOf(const SandboxRecord& record);

}  // namespace berth::pod
