#include "pod/sandbox_network.h"

#include "absl/strings/str_cat.h"
#include "network/cni_result.h"

namespace berth::pod {
namespace {

absl::StatusOr<uint64_t> BandwidthOf(const ::runtime::v1::PodSandboxConfig& config,
                                     const char* annotation) {
  auto it = config.annotations().find(annotation);
  if (it == config.annotations().end()) return 0;
  auto bits = network::ParseQuantity(it->second);
  if (!bits.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("annotation ", annotation, ": ", bits.status().message()));
  }
  return *bits;
}

const char* ProtocolName(::runtime::v1::Protocol protocol) {
  switch (protocol) {
    case ::runtime::v1::UDP:
      return "udp";
    case ::runtime::v1::SCTP:
      return "sctp";
    default:
      return "tcp";
  }
}

}  // namespace

network::DnsSettings DnsOf(const ::runtime::v1::PodSandboxConfig& config) {
  network::DnsSettings dns;
  dns.servers.assign(config.dns_config().servers().begin(), config.dns_config().servers().end());
  dns.searches.assign(config.dns_config().searches().begin(), config.dns_config().searches().end());
  dns.options.assign(config.dns_config().options().begin(), config.dns_config().options().end());
  return dns;
}

bool UsesHostNetwork(const ::runtime::v1::PodSandboxConfig& config) {
  return config.linux().security_context().namespace_options().network() == ::runtime::v1::NODE;
}

absl::StatusOr<network::PodNetworkRequest> PodNetworkRequestOf(const SandboxRecord& record) {
  const ::runtime::v1::PodSandboxConfig& config = record.config;
  network::PodNetworkRequest request;
  request.sandbox_id = record.id;
  request.netns = record.netns_path;
  request.pod_name = config.metadata().name();
  request.pod_namespace = config.metadata().namespace_();
  request.pod_uid = config.metadata().uid();
  for (const ::runtime::v1::PortMapping& mapping : config.port_mappings()) {
    if (mapping.host_port() <= 0) continue;
    request.port_mappings.push_back({mapping.host_port(), mapping.container_port(),
                                     ProtocolName(mapping.protocol()), mapping.host_ip()});
  }
  auto ingress = BandwidthOf(config, kIngressBandwidthAnnotation);
  if (!ingress.ok()) return ingress.status();
  request.ingress_bps = *ingress;
  auto egress = BandwidthOf(config, kEgressBandwidthAnnotation);
  if (!egress.ok()) return egress.status();
  request.egress_bps = *egress;
  request.dns = DnsOf(config);
  return request;
}

}  // namespace berth::pod
