// OCI images built in memory for end-to-end tests: layers assembled entry by entry, a config, an
// OCI manifest, and indexes. The standard image contains Debian's static busybox with its applets,
// so tests need no network and no image from outside the machine.
//
//   BERTH_ASSIGN_OR_RETURN(TestImage image, BusyboxImage());
//   BERTH_RETURN_IF_ERROR(registry->PushImage("busybox", "latest", image));
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::e2e {

// One blob as a registry serves it.
struct TestBlob {
  std::string media_type;
  std::string digest;  // "sha256:<hex>" of data
  std::string data;
};

// A layer: the blob (gzip or plain tar) and the digest of its uncompressed tar (the diff id).
struct TestLayer {
  TestBlob blob;
  std::string diff_id;
};

// Assembles one layer tar. Paths are relative to the image root ("bin/sh", not "/bin/sh").
// Entries keep the order they were added in. Every entry gets the same fixed mtime, so building
// the same layer twice gives the same digests.
class LayerBuilder {
 public:
  LayerBuilder& Dir(const std::string& path, uint32_t mode = 0755, int64_t uid = 0,
                    int64_t gid = 0);
  LayerBuilder& File(const std::string& path, const std::string& content, uint32_t mode = 0644,
                     int64_t uid = 0, int64_t gid = 0);
  // A regular file whose bytes are read from `host_path` when Build() runs.
  LayerBuilder& HostFile(const std::string& path, const std::string& host_path,
                         uint32_t mode = 0755);
  LayerBuilder& Symlink(const std::string& path, const std::string& target);
  LayerBuilder& Hardlink(const std::string& path, const std::string& target);
  // An OCI whiteout: hides `path` of the layers below (adds "<dir>/.wh.<name>").
  LayerBuilder& Whiteout(const std::string& path);
  // An OCI opaque marker: hides everything the layers below have in `dir`.
  LayerBuilder& Opaque(const std::string& dir);
  // Adds an extended attribute (PAX SCHILY.xattr) to the entry added last.
  LayerBuilder& Xattr(const std::string& name, const std::string& value);
  // Adds an entry exactly as given, without any check; for tests of hostile layers
  // ("../escape", "/abs"). `type` is 'f' (file), 'd' (dir), 'l' (symlink) or 'h' (hardlink).
  LayerBuilder& Raw(char type, const std::string& path, const std::string& content_or_target);

  // Writes the tar, gzip-compressed unless `gzip` is false (media type chosen to match).
  absl::StatusOr<TestLayer> Build(bool gzip = true) const;

  struct Entry {
    char type = 'f';
    std::string path;
    std::string content;    // file bytes, or the link target
    std::string host_path;  // when not empty, the file bytes come from here
    uint32_t mode = 0644;
    int64_t uid = 0;
    int64_t gid = 0;
    std::map<std::string, std::string> xattrs;
  };

 private:
  std::vector<Entry> entries_;
};

// What goes into the image config ("config" object of the OCI image config).
struct TestImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd = {"sh"};
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  std::string working_dir;
  std::string user;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;        // "/data"
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
};

// An image ready to push: layers bottom first, the config and the OCI manifest naming them.
struct TestImage {
  std::vector<TestLayer> layers;
  TestBlob config;
  TestBlob manifest;
};

// Builds the config and manifest for `layers` (bottom first).
absl::StatusOr<TestImage> BuildImage(std::vector<TestLayer> layers, const TestImageConfig& config);

// The busybox layer: /bin/busybox copied from the host, a symlink in /bin for every applet of
// `busybox --list`, /etc/passwd and /etc/group (root and nobody), /tmp (1777), and empty /dev,
// /proc, /sys, /root, /var directories.
absl::StatusOr<TestLayer> BusyboxLayer();

// A one-layer busybox image with Cmd ["sh"] and PATH set. `config` changes the config only.
absl::StatusOr<TestImage> BusyboxImage(const TestImageConfig& config = {});

// One entry of an index: a manifest and the platform it is for.
struct IndexEntry {
  TestBlob manifest;
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
};

// Builds an OCI image index listing `entries`.
TestBlob BuildIndex(const std::vector<IndexEntry>& entries);

// The host's busybox binary, the source of the busybox layer.
inline constexpr const char* kHostBusybox = "/bin/busybox";

}  // namespace berth::e2e
