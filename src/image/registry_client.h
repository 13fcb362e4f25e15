// A client of the OCI distribution API for anonymous pulls: manifests (by tag or digest) and
// blobs of one repository, over HTTPS, or plain HTTP for insecure registries. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "image/descriptor.h"
#include "image/http_client.h"
#include "image/reference.h"

namespace berth::image {

struct RegistryOptions {
  // Registries reached over plain HTTP, as written in references: "host" (any port) or
  // "host:port". localhost and 127.0.0.1 are always reached over HTTP, on any port.
  std::vector<std::string> insecure_registries;
};

// True when `domain` ("host" or "host:port") is reached over plain HTTP.
bool IsInsecureRegistry(std::string_view domain, const std::vector<std::string>& insecure);

// "https://registry-1.docker.io", "http://127.0.0.1:5000": where requests for `domain` go.
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

  // GETs /v2/<path>/manifests/<key>, where `key` is a tag or a digest, accepting the OCI and
  // Docker schema 2 manifest and index types. With a digest key the bytes must match it
  // (DataLoss otherwise). Documents over kMaxManifestBytes, schema 1 and unknown types fail.
  // Errors: Unavailable when the registry cannot be reached (naming the host) or returns 5xx or
  // 429, NotFound for 404, PermissionDenied for 401/403.
  absl::StatusOr<FetchedManifest> FetchManifest(const Reference& ref, const std::string& key);

  // GETs the blob `blob` of `ref`'s repository and passes its bytes to `sink` as they arrive.
  // The sink verifies them (ContentStore::Writer does); an error from it stops the transfer.
  // `what` names the blob in errors.
  absl::Status FetchBlob(const Reference& ref, const Descriptor& blob, const std::string& what,
                         const std::function<absl::Status(std::string_view)>& sink);

 private:
  // Sends a GET. A bearer challenge is met once with an anonymous token.
  absl::StatusOr<HttpResponse> Get(const Reference& ref, HttpRequest request);
  // Turns a non-2xx response into a status naming `what`, the registry and the HTTP status.
  absl::Status ResponseError(const Reference& ref, const HttpResponse& response,
                             const std::string& what) const;

  RegistryOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::string> tokens_;  // repository -> bearer token
};

}  // namespace berth::image
