// berthd's configuration: /etc/berth/berth.toml, one struct per TOML section, then flags on top.
//
//   [daemon]
//   root = "/var/lib/berth"
//   state = "/run/berth"
//   listen = "/run/berth/berth.sock"
//   log_level = "info"
//
//   [image]
//   insecure_registries = ["localhost:5000"]
//   sandbox_image = "registry.k8s.io/pause:3.9"
//   registry_config_dir = "/etc/berth/certs.d"
//   pull_progress_timeout_seconds = 300
//   max_concurrent_downloads = 3
//   keep_layer_blobs = false
//
//   [runtime]
//   shim_path = "/usr/local/bin/berth-shim"
//   pause_path = "/usr/local/bin/berth-pause"
//
//   [network]
//   conf_dir = "/etc/cni/net.d"
//   bin_dirs = ["/opt/cni/bin", "/usr/lib/cni"]
//   plugin_timeout_seconds = 60
//
// Every key is optional. A key or section Berth does not know is an error, so a typo never
// silently falls back to a default.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::berthd {

// Where berthd looks for its configuration when --config is not given.
inline constexpr char kDefaultConfigPath[] = "/etc/berth/berth.toml";

// [daemon]
struct DaemonSection {
  // Persistent data: content, snapshots, image and pod records. Absolute path.
  // Default /var/lib/berth.
  std::string root = "/var/lib/berth";
  // Volatile data: shim sockets, pinned network namespaces. Absolute path. Default /run/berth.
  std::string state = "/run/berth";
  // Unix socket the CRI services listen on (mode 0660). Absolute path.
  // Default /run/berth/berth.sock.
  std::string listen = "/run/berth/berth.sock";
  // Minimum log level: trace, debug, info, warn or error. Default info.
  std::string log_level = "info";
};

// [image]
struct ImageSection {
  // Registries that may be reached over plain HTTP or TLS without verification, each "host" or
  // "host:port". Default: none.
  std::vector<std::string> insecure_registries;
  // Reference of the pod sandbox image, e.g. "registry.k8s.io/pause:3.9". Berth runs pods
  // without one, but when it is set the image is pinned: RemoveImage refuses it and garbage
  // collection keeps it. Default: none.
  std::string sandbox_image;
  // Folder of per-registry hosts.toml files (mirrors, TLS, client certificates), laid out as
  // containerd's certs.d: <dir>/<registry>/hosts.toml. Absolute path. A missing folder means
  // no per-registry configuration. Default /etc/berth/certs.d.
  std::string registry_config_dir = "/etc/berth/certs.d";
  // A registry transfer that moves no byte for this many seconds fails, naming the blob.
  // 1..86400. Default 300.
  int pull_progress_timeout_seconds = 300;
  // Layers one pull downloads and unpacks at the same time. 1..64. Default 3.
  int max_concurrent_downloads = 3;
  // Keep each compressed layer blob in the content store after its unpack (about twice the
  // disk per image). Default false: layers stream into their snapshots.
  bool keep_layer_blobs = false;
};

// [runtime]
struct RuntimeSection {
  // The berth-shim binary. Absolute path. Default: berth-shim in the folder of berthd.
  std::string shim_path;
  // The berth-pause binary. Absolute path. Default: berth-pause in the folder of berthd.
  std::string pause_path;
  // How pod cgroups are named: "cgroupfs" (paths such as /berth/<pod>) or "systemd" (slices
  // and scopes, "berth-<pod>.slice", as the kubelet's systemd driver expects). RuntimeConfig
  // reports it to the kubelet. Default "cgroupfs".
  std::string cgroup_driver = "cgroupfs";
  // How the image's files get owners inside a pod's user namespace: "idmap" (idmapped layers,
  // falling back to chown where the kernel or file system cannot) or "chown" (always chown each
  // container's files through its overlay). Default "idmap".
  std::string userns_ownership = "idmap";
};

// [network]
struct NetworkSection {
  // Folder of CNI network configuration files. Absolute path. Default /etc/cni/net.d.
  std::string conf_dir = "/etc/cni/net.d";
  // Folders searched, in order, for CNI plugin binaries. Absolute paths.
  // Default /opt/cni/bin, /usr/lib/cni.
  std::vector<std::string> bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  // Seconds one CNI plugin call may take before it is killed and the call fails. 1..3600.
  // Default 60.
  int plugin_timeout_seconds = 60;
};

struct Config {
  DaemonSection daemon;
  ImageSection image;
  RuntimeSection runtime;
  NetworkSection network;
};

// Parses TOML `text` over the defaults. `origin` names the source in errors (a path). Errors
// are InvalidArgument and name the key: a TOML syntax error with its line and column, an
// unknown section or key ("unknown key daemon.rot in /etc/berth/berth.toml"), or a value of the
// wrong type ("daemon.root in /etc/berth/berth.toml must be a string, got integer 42").
absl::StatusOr<Config> ParseConfig(const std::string& text, const std::string& origin);

// Checks values without touching the system: paths absolute and free of NUL and newline
// characters, a socket path that fits sockaddr_un, a known log level, registries of the form
// host[:port] with a port in 1..65535. Errors are InvalidArgument naming the key and the value.
absl::Status ValidateConfig(const Config& config);

// Reads and parses the file at `path`. A missing file gives the defaults when `must_exist` is
// false (the default path), and NotFound when it is true (a path given by --config).
absl::StatusOr<Config> LoadConfigFile(const std::string& path, bool must_exist);

// Fills shim_path and pause_path that are still empty with berth-shim and berth-pause in
// `binary_dir` (the folder of the running berthd).
void ResolveBinaryPaths(const std::string& binary_dir, Config& config);

}  // namespace berth::berthd
