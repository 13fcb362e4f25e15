// The per-pod files every container of a pod mounts: /etc/resolv.conf, /etc/hostname and
// /etc/hosts. They are written once per sandbox into its directory.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::network {

struct DnsSettings {
  std::vector<std::string> servers;   // nameserver addresses
  std::vector<std::string> searches;  // search domains
  std::vector<std::string> options;   // resolver options such as "ndots:5"
};

// Returns the text of a resolv.conf. When `dns` has no servers, searches or options, the text of
// `host_resolv_conf` is returned unchanged, which is what a pod without DNS settings gets.
std::string RenderResolvConf(const DnsSettings& dns, const std::string& host_resolv_conf);

// Returns the text of an /etc/hosts with the loopback entries and, when `pod_ip` is not empty,
// a line mapping it to `hostname`.
std::string RenderHosts(const std::string& hostname, const std::string& pod_ip);

// Checks `hostname` against RFC 1123 (labels of letters, digits and '-', at most 63 characters
// each, 253 in all). The error names the value.
absl::Status ValidateHostname(const std::string& hostname);

struct PodFiles {
  std::string resolv_conf;  // paths of the written files
  std::string hostname;
  std::string hosts;
};

// Writes resolv.conf, hostname and hosts into `dir` (which must exist) and returns their paths.
// `host_resolv_conf_path` is read only when `dns` is empty; a missing host file gives an empty
// resolv.conf. When `host_hosts_path` is not empty (a pod on the host's network), hosts is a
// copy of that file instead of the rendered one; a missing file gives the rendered one.
absl::StatusOr<PodFiles> WritePodFiles(const std::string& dir, const std::string& hostname,
                                       const DnsSettings& dns, const std::string& pod_ip,
                                       const std::string& host_resolv_conf_path = "/etc/resolv.conf",
                                       const std::string& host_hosts_path = "");

}  // namespace berth::network
