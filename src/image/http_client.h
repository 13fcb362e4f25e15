// HTTP GET over libcurl, the one transport of the registry client. Small documents are collected
// in memory and blobs are streamed to a callback. Every transfer has bounded connect and stall
// times, so a dead peer cannot hang a pull.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::image {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Allows plain http:// for the URL and for redirects. Without it only https:// is used.
  bool allow_http = false;
  // Successful bodies longer than this fail with FailedPrecondition (< 0: no limit).
  int64_t max_body_bytes = -1;
  // When set, a successful (2xx) body is passed here chunk by chunk instead of being collected.
  // An error returned from it aborts the transfer and becomes the result of Get().
  std::function<absl::Status(std::string_view)> on_body;
};

struct HttpResponse {
  long status = 0;
  // Headers of the final response (after redirects), names lowercased.
  std::map<std::string, std::string> headers;
  // The body, unless a 2xx body went to on_body. Error bodies are kept up to 64 KiB.
  std::string body;

  // Returns the header `name` (lowercase), or "".
  std::string Header(const std::string& name) const;
};

// Performs a GET. A transfer that fails below HTTP (refused connection, DNS, TLS, timeout,
// stalled for 60 s) is Unavailable naming the URL and curl's reason. Any HTTP status, error or
// not, is returned in the response, because only the caller knows what it means.
absl::StatusOr<HttpResponse> HttpGet(const HttpRequest& request);

}  // namespace berth::image
