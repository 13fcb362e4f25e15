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

// A blob transfer that keeps getting cut after some progress is resumed at most this often
// on one host, so a peer that always drops the connection cannot keep a pull going forever.
constexpr int kMaxResumes = 20;

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

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

// "127.0.0.1:5000" of "http://127.0.0.1:5000": how hosts are named in errors.
std::string HostName(const RegistryEndpoint& host) {
  auto start = host.origin.find("://");
  return start == std::string::npos ? host.origin : host.origin.substr(start + 3);
}

}  // namespace

struct RegistryClient::Shared {
  RegistryOptions options;
  AuthState auth;
};

// Attempt rules of Send for one request on one host.
struct RegistryClient::Attempts {
  // Makes the request of each attempt (a blob's Range moves with its progress).
  std::function<HttpRequest()> build;
  // Bytes delivered to the caller so far, for transfers that can resume; empty otherwise.
  std::function<int64_t()> delivered;
  // Another host follows: a host that cannot be reached at all is left at once.
  bool more_hosts = false;
  // Set by the request's callbacks when the caller's sink failed: no retry, no other host.
  const bool* fatal = nullptr;
};

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

RegistryClient::RegistryClient(RegistryOptions options)
    : shared_(std::make_shared<Shared>()) {
  shared_->options = std::move(options);
}

RegistryClient::RegistryClient(std::shared_ptr<Shared> shared, Credentials credentials,
                               std::function<bool()> cancelled)
    : shared_(std::move(shared)),
      credentials_(std::move(credentials)),
      cancelled_(std::move(cancelled)) {}

RegistryClient RegistryClient::ForPull(const PullOptions& options) const {
  return RegistryClient(shared_, options.credentials, options.cancelled);
}

absl::StatusOr<std::vector<RegistryEndpoint>> RegistryClient::Hosts(const Reference& ref,
                                                                bool resolve) const {
  const RegistryOptions& options = shared_->options;
  BERTH_ASSIGN_OR_RETURN(
      HostsConfig config,
      LoadHostsConfig(options.config_dir, ref.domain, RegistryBaseUrl(ref.domain, options)));
  std::vector<RegistryEndpoint> hosts;
  for (RegistryEndpoint& host : config.hosts) {
    if (resolve ? host.resolve : host.pull) hosts.push_back(std::move(host));
  }
  if (hosts.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(config.source, " lists no host with the \"", resolve ? "resolve" : "pull",
                     "\" capability for ", ref.domain));
  }
  return hosts;
}

absl::StatusOr<HttpResponse> RegistryClient::Send(const Reference& ref, const RegistryEndpoint& host,
                                                  const Attempts& attempts) const {
  const RetryPolicy& policy = shared_->options.retry;
  const std::string scope = PullScope(ref.path);
  const bool plain_http = host.origin.starts_with("http://");
  Authorizer authorizer(shared_->auth, credentials_);
  std::string answered;  // the Authorization value sent in response to a challenge
  int failures = 0;
  int resumes = 0;
  std::chrono::milliseconds waited{0};

  while (true) {
    if (cancelled_ && cancelled_()) return absl::CancelledError("pull cancelled");
    HttpRequest request = attempts.build();
    request.allow_http = plain_http;
    request.tls = host.tls;
    request.no_progress_seconds = shared_->options.no_progress_seconds;
    request.cancelled = cancelled_;
    request.headers.insert(request.headers.end(), host.headers.begin(), host.headers.end());
    std::string authorization =
        answered.empty() ? authorizer.CachedAuthorization(host.origin, scope) : answered;
    if (!authorization.empty()) {
      request.headers.push_back(absl::StrCat("Authorization: ", authorization));
    }

    int64_t before = attempts.delivered ? attempts.delivered() : 0;
    absl::StatusOr<HttpResponse> response = HttpSend(request);
    bool progressed = attempts.delivered && attempts.delivered() > before;
    std::optional<std::chrono::milliseconds> server_delay;
    std::string reason;

    if (!response.ok()) {
      if ((attempts.fatal && *attempts.fatal) ||
          response.status().code() != absl::StatusCode::kUnavailable) {
        return response.status();
      }
      response = absl::UnavailableError(absl::StrCat("registry ", HostName(host),
                                                     " is unreachable: ",
                                                     std::string(response.status().message())));
      if (progressed && ++resumes <= kMaxResumes) {
        Log()->info("transfer cut, resuming url={} at={} error=\"{}\"", request.url,
                    attempts.delivered(), std::string(response.status().message()));
        continue;
      }
      if (attempts.more_hosts && !progressed) return response;
      reason = std::string(response.status().message());
    } else if (response->status == 401 && answered.empty()) {
      TokenTransport transport{plain_http, UrlOrigin(host.origin), host.tls,
                               shared_->options.no_progress_seconds, cancelled_};
      auto header =
          authorizer.Answer(host.origin, response->Header("www-authenticate"), scope, transport);
      if (!header.ok()) return Annotate(header.status(), absl::StrCat("registry ", HostName(host)));
      answered = *header;
      continue;
    } else if (IsRetryableStatus(response->status)) {
      reason = absl::StrCat("HTTP ", response->status);
      std::string retry_after = response->Header("retry-after");
      if (!retry_after.empty()) server_delay = ParseRetryAfter(retry_after, WallClock::now());
    } else {
      return response;
    }

    ++failures;
    std::chrono::milliseconds delay = server_delay ? *server_delay : BackoffDelay(policy, failures);
    if (failures >= policy.max_attempts || waited + delay > policy.max_total_delay) {
      return response;
    }
    Log()->info("registry request failed, retrying url={} attempt={} delay_ms={} reason=\"{}\"",
                request.url, failures + 1, delay.count(), reason);
    BERTH_RETURN_IF_ERROR(SleepUnlessCancelled(delay, cancelled_));
    waited += delay;
  }
}

absl::Status RegistryClient::ResponseError(const Reference& ref, const RegistryEndpoint& host,
                                           const HttpResponse& response,
                                           const std::string& what) const {
  const std::string name = HostName(host);
  std::string detail = RegistryErrorText(response.body);
  std::string suffix = absl::StrCat(" (HTTP ", response.status,
                                    detail.empty() ? "" : absl::StrCat(", ", detail), ")");
  switch (response.status) {
    case 404:
      return absl::NotFoundError(absl::StrCat(what, " not found at ", name, suffix));
    case 401:
    case 403:
      return absl::PermissionDeniedError(absl::StrCat(
          "pull access denied for ", ref.Repository(), " at ", name, suffix,
          credentials_.empty()
              ? ": the repository does not exist or needs credentials"
              : ": the credentials were refused or do not grant pull access"));
    case 429:
      return absl::UnavailableError(
          absl::StrCat("registry ", name, " is rate limiting pulls", suffix));
    default:
      break;
  }
  if (response.status >= 500) {
    return absl::UnavailableError(absl::StrCat("registry ", name, " failed to serve ", what,
                                               suffix));
  }
  return absl::InternalError(absl::StrCat("unexpected response from registry ", name, " for ",
                                          what, suffix));
}

absl::StatusOr<FetchedManifest> RegistryClient::FetchManifestFrom(const Reference& ref,
                                                                  const RegistryEndpoint& host,
                                                                  const std::string& key,
                                                                  const std::string& what,
                                                                  bool more_hosts) const {
  Attempts attempts;
  attempts.more_hosts = more_hosts;
  attempts.build = [&] {
    HttpRequest request;
    request.url = absl::StrCat(host.BaseUrl(), "/", ref.path, "/manifests/", key);
    request.headers = {absl::StrCat("Accept: ", std::string(media::kManifestAccept))};
    request.max_body_bytes = kMaxManifestBytes;
    return request;
  };
  auto response = Send(ref, host, attempts);
  if (!response.ok()) return Annotate(response.status(), what);
  if (response->status != 200) return ResponseError(ref, host, *response, what);

  FetchedManifest manifest;
  manifest.digest = Sha256Digest(response->body);
  if (key.starts_with(kSha256Prefix) && manifest.digest != key) {
    return absl::DataLossError(absl::StrCat(what, " from ", HostName(host),
                                            ": digest mismatch: expected ", key, ", got ",
                                            manifest.digest));
  }
  BERTH_ASSIGN_OR_RETURN(manifest.media_type,
                         DetectMediaType(response->Header("content-type"), response->body, what));
  manifest.data = std::move(response->body);
  return manifest;
}

absl::StatusOr<FetchedManifest> RegistryClient::FetchManifest(const Reference& ref,
                                                              const std::string& key) {
  std::string what = absl::StrCat("manifest ", ref.Repository(),
                                  key.starts_with(kSha256Prefix) ? "@" : ":", key);
  auto found = Hosts(ref, /*resolve=*/!key.starts_with(kSha256Prefix));
  if (!found.ok()) return Annotate(found.status(), what);
  const std::vector<RegistryEndpoint>& hosts = *found;
  absl::StatusOr<FetchedManifest> result = absl::UnknownError("no host tried");
  for (size_t i = 0; i < hosts.size(); ++i) {
    bool more_hosts = i + 1 < hosts.size();
    result = FetchManifestFrom(ref, hosts[i], key, what, more_hosts);
    if (result.ok() || absl::IsCancelled(result.status()) || !more_hosts) return result;
    Log()->warn("registry host failed, trying the next image={} host={} error=\"{}\"",
                ref.String(), hosts[i].BaseUrl(), std::string(result.status().message()));
  }
  return result;
}

absl::Status RegistryClient::FetchBlobFrom(
    const Reference& ref, const RegistryEndpoint& host, const Descriptor& blob,
    const std::string& what, const std::function<absl::Status(std::string_view)>& sink,
    bool more_hosts, int64_t* offset, bool* fatal) const {
  int64_t skip = 0;  // leading bytes of a full (200) response to a Range request to drop
  Attempts attempts;
  attempts.more_hosts = more_hosts;
  attempts.fatal = fatal;
  attempts.delivered = [offset] { return *offset; };
  attempts.build = [&] {
    HttpRequest request;
    request.url = absl::StrCat(host.BaseUrl(), "/", ref.path, "/blobs/", blob.digest);
    const int64_t from = *offset;
    if (from > 0) request.headers.push_back(absl::StrCat("Range: bytes=", from, "-"));
    request.on_start = [&, from](const HttpResponse& response) -> absl::Status {
      skip = 0;
      if (from == 0) return absl::OkStatus();
      if (response.status != 206) {
        // The host ignored the Range: read its response from the start and pass on only the
        // bytes the sink has not received, so the sink still sees every byte once, in order.
        skip = from;
        Log()->info("range ignored, reading blob again blob={} host={} at={}", blob.digest,
                    host.origin, from);
        return absl::OkStatus();
      }
      std::string range = response.Header("content-range");
      if (!range.starts_with(absl::StrCat("bytes ", from, "-"))) {
        return absl::DataLossError(absl::StrCat("asked for bytes ", from,
                                                "- and got Content-Range \"", range, "\""));
      }
      return absl::OkStatus();
    };
    request.on_body = [&](std::string_view chunk) -> absl::Status {
      if (skip > 0) {
        size_t drop = static_cast<size_t>(std::min<int64_t>(skip, chunk.size()));
        chunk.remove_prefix(drop);
        skip -= static_cast<int64_t>(drop);
        if (chunk.empty()) return absl::OkStatus();
      }
      absl::Status consumed = sink(chunk);
      if (!consumed.ok()) {
        *fatal = true;
        return consumed;
      }
      *offset += static_cast<int64_t>(chunk.size());
      return absl::OkStatus();
    };
    return request;
  };

  auto response = Send(ref, host, attempts);
  if (!response.ok()) return *fatal ? response.status() : Annotate(response.status(), what);
  if (response->status == 200 || response->status == 206) return absl::OkStatus();
  if (response->status == 416 && *offset > 0 && *offset == blob.size) return absl::OkStatus();
  return ResponseError(ref, host, *response, what);
}

absl::Status RegistryClient::FetchBlob(const Reference& ref, const Descriptor& blob,
                                       const std::string& what,
                                       const std::function<absl::Status(std::string_view)>& sink) {
  BERTH_RETURN_IF_ERROR(Annotate(ValidateDigest(blob.digest), what));
  auto hosts = Hosts(ref, /*resolve=*/false);
  if (!hosts.ok()) return Annotate(hosts.status(), what);

  int64_t offset = 0;  // bytes the sink has taken, from whichever host
  absl::Status result = absl::UnknownError("no host tried");
  for (size_t i = 0; i < hosts->size(); ++i) {
    bool more_hosts = i + 1 < hosts->size();
    bool fatal = false;
    result = FetchBlobFrom(ref, (*hosts)[i], blob, what, sink, more_hosts, &offset, &fatal);
    if (result.ok() || fatal || absl::IsCancelled(result) || absl::IsDeadlineExceeded(result) ||
        !more_hosts) {
      return result;
    }
    Log()->warn("registry host failed, trying the next blob={} host={} at={} error=\"{}\"",
                blob.digest, (*hosts)[i].BaseUrl(), offset, std::string(result.message()));
  }
  return result;
}

}  // namespace berth::image
