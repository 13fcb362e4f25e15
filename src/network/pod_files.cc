#include "network/pod_files.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status.h"

namespace berth::network {

std::string RenderResolvConf(const DnsSettings& dns, const std::string& host_resolv_conf) {
  if (dns.servers.empty() && dns.searches.empty() && dns.options.empty()) return host_resolv_conf;
  std::string text;
  if (!dns.searches.empty()) absl::StrAppend(&text, "search ", absl::StrJoin(dns.searches, " "), "\n");
  for (const std::string& server : dns.servers) absl::StrAppend(&text, "nameserver ", server, "\n");
  if (!dns.options.empty()) absl::StrAppend(&text, "options ", absl::StrJoin(dns.options, " "), "\n");
  return text;
}

std::string RenderHosts(const std::string& hostname, const std::string& pod_ip) {
  std::string text =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  if (!pod_ip.empty() && !hostname.empty()) absl::StrAppend(&text, pod_ip, "\t", hostname, "\n");
  return text;
}

absl::Status ValidateHostname(const std::string& hostname) {
  auto invalid = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid hostname \"", hostname, "\": ", why));
  };
  if (hostname.empty()) return invalid("empty");
  if (hostname.size() > 253) return invalid("longer than 253 characters");
  for (absl::string_view label : absl::StrSplit(hostname, '.')) {
    if (label.empty()) return invalid("empty label");
    if (label.size() > 63) return invalid("a label is longer than 63 characters");
    if (label.front() == '-' || label.back() == '-') return invalid("a label starts or ends with '-'");
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return invalid(absl::StrCat("character '", std::string(1, c), "' is not allowed"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PodFiles> WritePodFiles(const std::string& dir, const std::string& hostname,
                                       const DnsSettings& dns, const std::string& pod_ip,
                                       const std::string& host_resolv_conf_path,
                                       const std::string& host_hosts_path) {
  std::string host_resolv;
  if (dns.servers.empty() && dns.searches.empty() && dns.options.empty()) {
    auto host = ReadFile(host_resolv_conf_path);
    if (host.ok()) {
      host_resolv = *std::move(host);
    } else if (!absl::IsNotFound(host.status())) {
      return host.status();
    }
  }
  std::string hosts = RenderHosts(hostname, pod_ip);
  if (!host_hosts_path.empty()) {
    auto host = ReadFile(host_hosts_path);
    if (host.ok()) {
      hosts = *std::move(host);
    } else if (!absl::IsNotFound(host.status())) {
      return host.status();
    }
  }
  PodFiles files{JoinPath(dir, "resolv.conf"), JoinPath(dir, "hostname"), JoinPath(dir, "hosts")};
  // The files are derived from the pod's config and written again if ever needed, so they are
  // replaced without the cost of an fsync each.
  BERTH_RETURN_IF_ERROR(ReplaceFile(files.resolv_conf, RenderResolvConf(dns, host_resolv)));
  BERTH_RETURN_IF_ERROR(ReplaceFile(files.hostname, hostname + "\n"));
  BERTH_RETURN_IF_ERROR(ReplaceFile(files.hosts, hosts));
  return files;
}

}  // namespace berth::network
