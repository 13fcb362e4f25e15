// A private OCI registry for end-to-end tests: Debian's docker-registry listening on
// 127.0.0.1 at a free port, storing blobs in its own temporary directory. Tests push the images
// they need through the distribution API, then point Berth at host().
//
//   BERTH_ASSIGN_OR_RETURN(auto registry, TestRegistry::Start());
//   BERTH_RETURN_IF_ERROR(registry->PushImage("busybox", "latest", image));
//   // pull "<registry->host()>/busybox:latest"
//
// The destructor stops the registry (only the process it started) and deletes the storage.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {

inline constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";

struct TestRegistryOptions {
  // YAML appended to the configuration right after `http: addr:`: indented lines extend the
  // http section, unindented ones add sections such as `auth:`.
  std::string extra_config;
  // Serves this storage folder (another registry's storage_dir()) instead of a fresh one, so
  // that a registry with auth serves images pushed to one without. Not deleted on exit.
  std::string storage_dir;
};

class TestRegistry {
 public:
  // Starts the registry and waits (at most 20 s) until plain HTTP GET /v2/ gets a response (200,
  // or 401 with auth, 400 with TLS). On failure the error carries the tail of the registry's log.
  static absl::StatusOr<std::unique_ptr<TestRegistry>> Start(TestRegistryOptions options = {});

  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  // "127.0.0.1:<port>", the registry part of references to pull.
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // The folder the registry stores blobs and manifests in.
  const std::string& storage_dir() const { return storage_dir_; }

  // Uploads one blob to repository `repo` (monolithic upload: POST, then PUT ?digest=).
  absl::Status PushBlob(const std::string& repo, const TestBlob& blob);

  // Stores `manifest` (an image manifest or an index) under a tag or under its digest.
  absl::Status PushManifest(const std::string& repo, const std::string& tag_or_digest,
                            const TestBlob& manifest);

  // Pushes the config, the layers, then the manifest under `tag`.
  absl::Status PushImage(const std::string& repo, const std::string& tag, const TestImage& image);

  // Where the registry keeps the bytes of a blob, for tests that corrupt one on purpose.
  std::string BlobDataPath(const std::string& digest) const;

  // Stops the registry: SIGTERM, then SIGKILL after 5 s, and reaps it. Idempotent.
  absl::Status Stop();

 private:
  TestRegistry() = default;
  absl::Status Launch();
  absl::Status WaitReady();
  std::string LogTail() const;

  std::string dir_;  // temporary directory: config, log, storage
  std::string storage_dir_;
  std::string extra_config_;
  std::string host_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Returns a TCP port on 127.0.0.1 that was free a moment ago.
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace berth::e2e
