#include "image/registry_client.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/registry_auth.h"

namespace berth::image {
namespace {

// "code: message" of the first error in a registry's JSON error body, or "".
std::string RegistryErrorText(const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array() ||
      json["errors"].empty() || !json["errors"][0].is_object()) {
    return "";
  }
  const nlohmann::json& first = json["errors"][0];
  auto text = [&first](const char* key) {
    return first.contains(key) && first[key].is_string() ? first[key].get<std::string>()
                                                          : std::string();
  };
  std::string code = text("code");
  std::string message = text("message");
  if (code.empty()) return message;
  return message.empty() ? code : absl::StrCat(code, ": ", message);
}

std::string HostOf(std::string_view domain) {
  return std::string(domain.substr(0, domain.rfind(':')));
}

}  // namespace

bool IsInsecureRegistry(std::string_view domain, const std::vector<std::string>& insecure) {
  std::string host = HostOf(domain);
  if (host == "localhost" || host == "127.0.0.1") return true;
  for (const std::string& entry : insecure) {
    if (entry == domain) return true;
    if (entry.find(':') == std::string::npos && entry == host) return true;
  }
  return false;
}

std::string RegistryBaseUrl(std::string_view domain, const RegistryOptions& options) {
  const char* scheme =
      IsInsecureRegistry(domain, options.insecure_registries) ? "http://" : "https://";
  return absl::StrCat(scheme, RegistryHost(domain));
}

RegistryClient::RegistryClient(RegistryOptions options) : options_(std::move(options)) {}

absl::StatusOr<HttpResponse> RegistryClient::Get(const Reference& ref, HttpRequest request) {
  const std::string repository = ref.Repository();
  const std::string host = RegistryHost(ref.domain);
  request.allow_http = IsInsecureRegistry(ref.domain, options_.insecure_registries);
  const std::vector<std::string> plain_headers = request.headers;

  std::string token;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = tokens_.find(repository);
    if (it != tokens_.end()) token = it->second;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    request.headers = plain_headers;
    if (!token.empty()) request.headers.push_back(absl::StrCat("Authorization: Bearer ", token));

    auto response = HttpGet(request);
    if (!response.ok()) {
      if (response.status().code() != absl::StatusCode::kUnavailable) return response.status();
      return absl::UnavailableError(absl::StrCat("registry ", host, " is unreachable: ",
                                                 std::string(response.status().message())));
    }
    if (response->status != 401 || attempt > 0) return response;

    auto challenge = ParseAuthChallenge(response->Header("www-authenticate"));
    if (!challenge || challenge->scheme != "bearer") return response;
    auto fresh = FetchAnonymousToken(*challenge, absl::StrCat("repository:", ref.path, ":pull"),
                                     request.allow_http);
    if (!fresh.ok()) {
      return Annotate(fresh.status(), absl::StrCat("anonymous token for ", repository));
    }
    token = *fresh;
    std::lock_guard<std::mutex> lock(mutex_);
    tokens_[repository] = token;
  }
  return absl::InternalError("unreachable: the retry loop always returns");
}

absl::Status RegistryClient::ResponseError(const Reference& ref, const HttpResponse& response,
                                           const std::string& what) const {
  const std::string host = RegistryHost(ref.domain);
  std::string detail = RegistryErrorText(response.body);
  std::string suffix = absl::StrCat(" (HTTP ", response.status,
                                    detail.empty() ? "" : absl::StrCat(", ", detail), ")");
  switch (response.status) {
    case 404:
      return absl::NotFoundError(absl::StrCat(what, " not found at ", host, suffix));
    case 401:
    case 403:
      return absl::PermissionDeniedError(absl::StrCat(
          "pull access denied for ", ref.Repository(), suffix,
          ": the repository does not exist or needs credentials, which Berth does not send yet"));
    case 429:
      return absl::UnavailableError(
          absl::StrCat("registry ", host, " is rate limiting pulls", suffix));
    default:
      break;
  }
  if (response.status >= 500) {
    return absl::UnavailableError(absl::StrCat("registry ", host, " failed to serve ", what,
                                               suffix));
  }
  return absl::InternalError(absl::StrCat("unexpected response from registry ", host, " for ", what,
                                          suffix));
}

absl::StatusOr<FetchedManifest> RegistryClient::FetchManifest(const Reference& ref,
                                                              const std::string& key) {
  std::string what = absl::StrCat("manifest ", ref.Repository(),
                                  key.starts_with(kSha256Prefix) ? "@" : ":", key);
  HttpRequest request;
  request.url = absl::StrCat(RegistryBaseUrl(ref.domain, options_), "/v2/", ref.path,
                             "/manifests/", key);
  request.headers = {absl::StrCat("Accept: ", std::string(media::kManifestAccept))};
  request.max_body_bytes = kMaxManifestBytes;
  auto response = Get(ref, std::move(request));
  if (!response.ok()) return Annotate(response.status(), what);
  if (response->status != 200) return ResponseError(ref, *response, what);

  FetchedManifest manifest;
  manifest.digest = Sha256Digest(response->body);
  if (key.starts_with(kSha256Prefix) && manifest.digest != key) {
    return absl::DataLossError(absl::StrCat(what, ": digest mismatch: expected ", key, ", got ",
                                            manifest.digest));
  }
  BERTH_ASSIGN_OR_RETURN(manifest.media_type,
                         DetectMediaType(response->Header("content-type"), response->body, what));
  manifest.data = std::move(response->body);
  return manifest;
}

absl::Status RegistryClient::FetchBlob(const Reference& ref, const Descriptor& blob,
                                       const std::string& what,
                                       const std::function<absl::Status(std::string_view)>& sink) {
  BERTH_RETURN_IF_ERROR(Annotate(ValidateDigest(blob.digest), what));
  HttpRequest request;
  request.url = absl::StrCat(RegistryBaseUrl(ref.domain, options_), "/v2/", ref.path, "/blobs/",
                             blob.digest);
  request.on_body = sink;
  auto response = Get(ref, std::move(request));
  if (!response.ok()) return Annotate(response.status(), what);
  if (response->status != 200) return ResponseError(ref, *response, what);
  return absl::OkStatus();
}

}  // namespace berth::image
