// A client of the OCI distribution API: manifests (by tag or digest) and blobs of one
// repository, over HTTPS, or plain HTTP for insecure registries. Per registry it reads
// containerd-style hosts.toml (see hosts_config.h): mirrors are tried in order, then the
// registry itself. On each host a request
//   - responds to Bearer and Basic challenges with the pull's credentials (registry_auth.h),
//   - is retried with exponential backoff on 408, 429 (honouring Retry-After), 5xx and
//     connection failures, within RetryPolicy's bounds,
//   - for blobs, resumes with "Range: bytes=N-" where a dropped transfer stopped,
//   - fails with DeadlineExceeded when no byte moves for no_progress_seconds,
//   - stops with Cancelled when the pull is cancelled.
// Thread-safe. Copies share the hosts' challenges and the token cache.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "image/descriptor.h"
#include "image/hosts_config.h"
#include "image/http_client.h"
#include "image/pull_options.h"
#include "image/reference.h"
#include "image/registry_retry.h"

namespace berth::image {

// Default of RegistryOptions::no_progress_seconds: five minutes.
inline constexpr int64_t kDefaultNoProgressSeconds = 300;

struct RegistryOptions {
  // Registries reached over plain HTTP, as written in references: "host" (any port) or
  // "host:port". localhost and 127.0.0.1 are always reached over HTTP, on any port.
  std::vector<std::string> insecure_registries;
  // Folder of per-registry hosts.toml files, e.g. /etc/berth/certs.d. "": none, every
  // registry is its own only host. Read at each request, so edits apply to the next pull.
  std::string config_dir;
  // A transfer that moves no byte for this long fails, naming what it fetched.
  int64_t no_progress_seconds = kDefaultNoProgressSeconds;
  RetryPolicy retry;
};

// True when `domain` ("host" or "host:port") is reached over plain HTTP.
bool IsInsecureRegistry(std::string_view domain, const std::vector<std::string>& insecure);

// "https://registry-1.docker.io", "http://127.0.0.1:5000": where requests for `domain` go
// when no hosts.toml names a server.
std::string RegistryBaseUrl(std::string_view domain, const RegistryOptions& options);

// A manifest or index as the registry returned it.
struct FetchedManifest {
  std::string media_type;  // from DetectMediaType
  std::string digest;      // sha256 of `data`
  std::string data;
};

class RegistryClient {
 public:
  explicit RegistryClient(RegistryOptions options);

  // A client for one pull: the same hosts and token cache, with this pull's credentials and
  // cancellation. Credentials go to every host of the pulled registry that requests them
  // (its mirrors included) and never across a redirect to another host.
  RegistryClient ForPull(const PullOptions& options) const;

  // GETs <api root>/<path>/manifests/<key>, where `key` is a tag or a digest, accepting the OCI
  // and Docker schema 2 manifest and index types, from the hosts that may resolve (tags) or
  // pull (digests). With a digest key the bytes must match it (DataLoss otherwise). Documents
  // over kMaxManifestBytes, schema 1 and unknown types fail.
  // Errors (of the last host tried): Unavailable when the registry cannot be reached (naming
  // the host) or keeps returning 5xx or 429, NotFound for 404, PermissionDenied for 401/403,
  // FailedPrecondition when the host's certificate does not verify, Cancelled, and
  // DeadlineExceeded when the transfer stalls.
  absl::StatusOr<FetchedManifest> FetchManifest(const Reference& ref, const std::string& key);

  // GETs the blob `blob` of `ref`'s repository and passes its bytes, in order and each once, to
  // `sink` as they arrive. The sink verifies them (ContentStore::Writer does); an error from it
  // stops the transfer and is returned as is. A transfer cut short continues from the next
  // byte (on the same host, or on the next one). `what` names the blob in errors.
  absl::Status FetchBlob(const Reference& ref, const Descriptor& blob, const std::string& what,
                         const std::function<absl::Status(std::string_view)>& sink);

 private:
  struct Shared;
  struct Attempts;

  RegistryClient(std::shared_ptr<Shared> shared, Credentials credentials,
                 std::function<bool()> cancelled);

  // The hosts for `ref` with `resolve` (tags) or `pull` (digests) capability, in order.
  absl::StatusOr<std::vector<RegistryEndpoint>> Hosts(const Reference& ref, bool resolve) const;
  // Sends a request to one host with auth and retries (see Attempts).
  absl::StatusOr<HttpResponse> Send(const Reference& ref, const RegistryEndpoint& host,
                                    const Attempts& attempts) const;
  // Turns a non-2xx response into a status naming `what`, the host and the HTTP status.
  absl::Status ResponseError(const Reference& ref, const RegistryEndpoint& host,
                             const HttpResponse& response, const std::string& what) const;
  absl::StatusOr<FetchedManifest> FetchManifestFrom(const Reference& ref,
                                                    const RegistryEndpoint& host,
                                                    const std::string& key,
                                                    const std::string& what,
                                                    bool more_hosts) const;
  absl::Status FetchBlobFrom(const Reference& ref, const RegistryEndpoint& host,
                             const Descriptor& blob, const std::string& what,
                             const std::function<absl::Status(std::string_view)>& sink,
                             bool more_hosts, int64_t* offset, bool* fatal) const;

  std::shared_ptr<Shared> shared_;
  Credentials credentials_;
  std::function<bool()> cancelled_;
};

}  // namespace berth::image
