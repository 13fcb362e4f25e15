// Pod networking through CNI: ADD when a sandbox is made, DEL when it stops, CHECK on request.
// The network configuration is read again whenever the configuration directory changed, so a
// configuration installed after start-up takes effect without a restart.
//
// Each attachment is recorded on disk before ADD and completed with the result after it, under
// `cache_dir`. DEL uses that record (configuration, capability arguments, CNI_ARGS and result),
// so it sends what ADD sent even after a restart or a change of configuration, and an
// attachment whose DEL failed is found again by the next Teardown.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "network/cni_config.h"
#include "network/pod_files.h"

namespace berth::network {

struct CniManagerOptions {
  std::string conf_dir = "/etc/cni/net.d";                            // configuration directory
  std::vector<std::string> bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};  // plugin folders, in order
  std::string cache_dir;  // attachment records; must be set
  absl::Duration plugin_timeout = absl::Seconds(60);  // each plugin call is killed after this
  std::string ifname = "eth0";  // interface name inside the pod
};

// A host port forwarded to the pod (capability "portMappings").
struct PortMapping {
  int host_port = 0;
  int container_port = 0;
  std::string protocol = "tcp";  // "tcp", "udp" or "sctp"
  std::string host_ip;           // empty: every address
};

// What ADD needs to know about a pod.
struct PodNetworkRequest {
  std::string sandbox_id;  // CNI_CONTAINERID
  std::string netns;       // path of the pinned namespace
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::vector<PortMapping> port_mappings;
  uint64_t ingress_bps = 0;  // capability "bandwidth"; 0 means no limit
  uint64_t egress_bps = 0;
  DnsSettings dns;           // capability "dns"
};

// What ADD gave the pod.
struct PodNetworkResult {
  std::vector<std::string> ips;  // IPv4 first, then IPv6; the first is the pod IP
  nlohmann::json result;         // the final result of the chain
};

// NetworkReady as the CRI Status reports it.
struct NetworkCondition {
  bool ready = false;
  std::string reason;   // "NetworkPluginNotReady" when not ready
  std::string message;  // what is missing or wrong
};

class CniManager {
 public:
  explicit CniManager(CniManagerOptions options);

  // True when the configuration directory holds at least one candidate file, valid or not.
  bool Configured();

  // Ready when the lowest-named file parses and every plugin it names is found.
  NetworkCondition Condition();

  // Runs ADD through the plugin chain, each plugin given the previous one's result. On failure,
  // DEL runs through the chain so that nothing half-made stays, and the error carries the
  // failing plugin's message (and the DEL error, if DEL failed too: the record then stays, for
  // a later Teardown). No configuration, or one that does not parse, is FailedPrecondition.
  absl::StatusOr<PodNetworkResult> Setup(const PodNetworkRequest& request);

  // Runs DEL, in reverse order, for the recorded attachment of `sandbox_id` and forgets it.
  // `netns` is passed to the plugins only while it still is a pinned namespace, since plugins
  // release their addresses without it. No record is success, so Teardown is idempotent; on
  // failure the record stays and the next Teardown tries again.
  absl::Status Teardown(const std::string& sandbox_id, const std::string& netns);

  // Runs CHECK through the chain with the recorded result (CNI 0.4.0 and later; earlier
  // versions have no CHECK and succeed). No record is NotFound.
  absl::Status Check(const std::string& sandbox_id, const std::string& netns);

  // True while an attachment of `sandbox_id` is recorded (ADD ran and DEL did not yet succeed).
  bool HasAttachment(const std::string& sandbox_id);

  // Stores the node's pod CIDR, handed to plugins with the "ipRanges" capability. Empty clears
  // it. A malformed CIDR is InvalidArgument.
  absl::Status SetPodCidr(const std::string& cidr);

 private:
  // The configuration of the lowest-named file, parsed again only when the file list or the
  // file's size or mtime changed.
  absl::StatusOr<CniNetworkConfig> CurrentConfig();
  nlohmann::json CapabilityArgs(const PodNetworkRequest& request);
  std::string RecordPath(const std::string& sandbox_id) const;
  absl::Status RunDel(const nlohmann::json& record, const std::string& netns);

  CniManagerOptions options_;
  std::mutex mutex_;  // guards the members below
  std::string loaded_key_;  // file path, size and mtime of the parsed configuration
  absl::StatusOr<CniNetworkConfig> loaded_ = absl::NotFoundError("not loaded");
  std::string pod_cidr_;
};

}  // namespace berth::network
