// Per-registry host configuration in containerd's hosts.toml layout, so that a kind or
// containerd mirror setup works unchanged:
//
//   <config_dir>/<registry>/hosts.toml       e.g. /etc/berth/certs.d/docker.io/hosts.toml
//   <config_dir>/_default/hosts.toml         for registries without a folder of their own
//
//   server = "https://registry-1.docker.io"   # the registry itself, tried last
//
//   [host."https://mirror.example.com"]      # mirrors, tried in the order they appear
//     capabilities = ["pull", "resolve"]      # resolve: tags to digests; pull: by digest
//     skip_verify = false
//     ca = "/etc/certs/mirror-ca.pem"         # or a list; relative paths are from the folder
//     client = [["/etc/certs/c.cert", "/etc/certs/c.key"]]
//     override_path = true                    # the URL path is the API root, no /v2 added
//     [host."https://mirror.example.com".header]
//       x-custom = "value"
//
// A folder without hosts.toml but with *.crt (CAs) and *.cert/*.key pairs (client
// certificates), the older certs.d layout, applies those files to the registry itself.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "image/http_client.h"

namespace berth::image {

// One place to send requests for a registry: a mirror or the registry itself.
struct RegistryEndpoint {
  // "https://mirror.example.com:5000": scheme and authority, no path.
  std::string origin;
  // The API root requests are built on, e.g. "/v2" or "/proxy/v2"; "" never.
  std::string api_root;
  // May resolve tags to manifests.
  bool resolve = true;
  // May serve content by digest: manifests by digest and blobs.
  bool pull = true;
  TlsOptions tls;
  // Extra request headers, "Name: value".
  std::vector<std::string> headers;
  // The registry itself (`server`) rather than a mirror.
  bool is_server = false;

  // origin + api_root, e.g. "https://mirror.example.com/v2".
  std::string BaseUrl() const { return origin + api_root; }
};

struct HostsConfig {
  // Mirrors in file order, then the server.
  std::vector<RegistryEndpoint> hosts;
  // The file they came from, or "" for the built-in default.
  std::string source;
};

// Parses hosts.toml `text` read from `path`. Relative file names are resolved in the folder of
// `path`. `default_server` ("https://registry-1.docker.io") is the server when the file names
// none. Errors are InvalidArgument naming the file and the key. Keys Berth does not use
// (dial_timeout, push-only settings) are ignored, as containerd ignores what it does not know.
absl::StatusOr<HostsConfig> ParseHostsToml(const std::string& text, const std::string& path,
                                           const std::string& default_server);

// The hosts for registry `domain` ("docker.io", "127.0.0.1:5000") from `config_dir`: its own
// folder, else _default, else just `default_server`. An empty or missing `config_dir` means
// no configuration. A hosts.toml that exists but does not parse is an error, never ignored.
absl::StatusOr<HostsConfig> LoadHostsConfig(const std::string& config_dir,
                                            const std::string& domain,
                                            const std::string& default_server);

}  // namespace berth::image
