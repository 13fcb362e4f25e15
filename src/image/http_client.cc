#include "image/http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "image/text.h"

namespace berth::image {
namespace {

constexpr long kConnectTimeoutSeconds = 30;
// A transfer slower than 1 byte/s for this long is abandoned.
constexpr long kStallSeconds = 60;
constexpr long kMaxRedirects = 10;
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr const char* kUserAgent = "berth/0.1";

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse response;
  int64_t body_bytes = 0;
  absl::Status callback_error;
};

long CurrentStatus(Transfer* transfer) {
  long status = 0;
  curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 100 Continue): forget the previous one.
    transfer->response.headers.clear();
    transfer->response.body.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response.headers[ToLower(Trim(line.substr(0, colon)))] =
        std::string(Trim(line.substr(colon + 1)));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const HttpRequest& request = *transfer->request;
  std::string_view chunk(data, size * count);
  long status = CurrentStatus(transfer);

  if (status < 200 || status >= 300) {
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, transfer->response.body.size());
    transfer->response.body.append(chunk.substr(0, room));
    return chunk.size();
  }
  transfer->body_bytes += static_cast<int64_t>(chunk.size());
  if (request.max_body_bytes >= 0 && transfer->body_bytes > request.max_body_bytes) {
    transfer->callback_error = absl::FailedPreconditionError(
        absl::StrCat("GET ", request.url, ": response larger than the limit of ",
                     request.max_body_bytes, " bytes"));
    return 0;
  }
  if (!request.on_body) {
    transfer->response.body.append(chunk);
    return chunk.size();
  }
  absl::Status consumed = request.on_body(chunk);
  if (!consumed.ok()) {
    transfer->callback_error = consumed;
    return 0;
  }
  return chunk.size();
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

absl::StatusOr<HttpResponse> HttpGet(const HttpRequest& request) {
  InitCurlOnce();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::ResourceExhaustedError("curl_easy_init failed");

  struct curl_slist* list = nullptr;
  for (const std::string& header : request.headers) list = curl_slist_append(list, header.c_str());
  std::unique_ptr<struct curl_slist, void (*)(struct curl_slist*)> headers(list,
                                                                          curl_slist_free_all);
  Transfer transfer;
  transfer.request = &request;
  transfer.curl = curl.get();
  char error_buffer[CURL_ERROR_SIZE] = {};
  const char* protocols = request.allow_http ? "http,https" : "https";

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);

  CURLcode code = curl_easy_perform(c);
  if (!transfer.callback_error.ok()) return transfer.callback_error;
  if (code != CURLE_OK) {
    std::string reason = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return absl::UnavailableError(absl::StrCat("GET ", request.url, ": ", reason));
  }
  transfer.response.status = CurrentStatus(&transfer);
  return std::move(transfer.response);
}

}  // namespace berth::image
