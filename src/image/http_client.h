// HTTP over libcurl, the one transport of the registry client. Small documents are collected
// in memory and blobs are streamed to a callback. Every transfer has a bounded connect time and
// a no-progress limit, so a dead peer cannot hang a pull, and can be cancelled between chunks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::image {

// How to check the server and which certificate to show it. The defaults verify the server
// against the system's CA bundle and send no client certificate.
struct TlsOptions {
  // Accept any server certificate (hosts.toml `skip_verify`).
  bool skip_verify = false;
  // PEM files of extra CAs trusted besides the system's.
  std::vector<std::string> ca_files;
  // PEM client certificate and its key; the key may be in the certificate file (key_file "").
  std::string client_cert_file;
  std::string client_key_file;
};

struct HttpResponse;

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // When not empty the request is a POST of this application/x-www-form-urlencoded body.
  std::string form_body;
  // Allows plain http:// for the URL and for redirects. Without it only https:// is used.
  bool allow_http = false;
  TlsOptions tls;
  // A transfer that moves no byte for this long fails with DeadlineExceeded.
  // NOTE: curl averages the speed over its last few seconds, so a stall right after a burst of
  // data is detected up to about 6 s late (measured: 8 s for a 2 s limit).
  int64_t no_progress_seconds = 60;
  // Successful bodies longer than this fail with FailedPrecondition (< 0: no limit).
  int64_t max_body_bytes = -1;
  // Called once when a successful (2xx) response starts its body, with its status and headers.
  // An error returned from it aborts the transfer and becomes the result.
  std::function<absl::Status(const HttpResponse&)> on_start;
  // When set, a successful (2xx) body is passed here chunk by chunk instead of being collected.
  // An error returned from it aborts the transfer and becomes the result.
  std::function<absl::Status(std::string_view)> on_body;
  // Polled while the transfer runs (at least once a second); true aborts it with Cancelled.
  std::function<bool()> cancelled;
};

struct HttpResponse {
  long status = 0;
  // Headers of the final response (after redirects), names lowercased.
  std::map<std::string, std::string> headers;
  // The body, unless a 2xx body went to on_body. Error bodies are kept up to 64 KiB.
  std::string body;
  // The URL of the final response, after redirects.
  std::string final_url;

  // Returns the header `name` (lowercase), or "".
  std::string Header(const std::string& name) const;
};

// Performs the request and follows up to 10 redirects. A redirect to another origin (scheme,
// host or port) drops every Authorization header, so credentials meant for a registry never
// reach the storage it sends blobs from.
// Errors below HTTP: Unavailable naming the URL and curl's reason (refused connection, DNS,
// TLS handshake, a connection dropped mid-body), FailedPrecondition when the server's
// certificate does not verify or a client certificate or CA file is unusable,
// DeadlineExceeded when no byte moved for no_progress_seconds, Cancelled when `cancelled`
// returned true. Any HTTP status, error or not, is returned in the response, because only the
// caller knows what it means.
absl::StatusOr<HttpResponse> HttpSend(const HttpRequest& request);

// HttpSend for a GET; kept for callers that read better with the method in the name.
inline absl::StatusOr<HttpResponse> HttpGet(const HttpRequest& request) { return HttpSend(request); }

// "https://host:port" of an absolute URL, lowercased, with the default port made explicit, or
// "" when `url` has no scheme. Two URLs with the same origin may share credentials.
std::string UrlOrigin(std::string_view url);

}  // namespace berth::image
