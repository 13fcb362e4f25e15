#include "image/http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "image/text.h"

namespace berth::image {
namespace {

constexpr long kConnectTimeoutSeconds = 30;
constexpr int kMaxRedirects = 10;
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr const char* kUserAgent = "berth/0.1";

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using CurlHandle = std::unique_ptr<CURL, void (*)(CURL*)>;
using HeaderList = std::unique_ptr<struct curl_slist, void (*)(struct curl_slist*)>;

// One hop of a request: the URL, headers and body it is sent with this time.
struct Hop {
  std::string url;
  std::vector<std::string> headers;
  std::string form_body;
};

struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse response;
  int64_t body_bytes = 0;
  bool started = false;
  bool was_cancelled = false;
  absl::Status callback_error;
};

long CurrentStatus(CURL* curl) {
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue): forget the previous one.
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
  long status = CurrentStatus(transfer->curl);

  if (status < 200 || status >= 300) {
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, transfer->response.body.size());
    transfer->response.body.append(chunk.substr(0, room));
    return chunk.size();
  }
  if (!transfer->started) {
    transfer->started = true;
    transfer->response.status = status;
    if (request.on_start) {
      absl::Status accepted = request.on_start(transfer->response);
      if (!accepted.ok()) {
        transfer->callback_error = accepted;
        return 0;
      }
    }
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

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->request->cancelled && transfer->request->cancelled()) {
    transfer->was_cancelled = true;
    return 1;
  }
  return 0;
}

// The concatenated PEM text of `files`, for CURLOPT_CAINFO_BLOB.
absl::StatusOr<std::string> ReadCaBundle(const std::vector<std::string>& files) {
  std::string bundle;
  for (const std::string& file : files) {
    auto pem = ReadFile(file);
    if (!pem.ok()) return Annotate(pem.status(), "reading CA file");
    absl::StrAppend(&bundle, *pem, "\n");
  }
  return bundle;
}

absl::Status ApplyTls(CURL* c, const TlsOptions& tls, std::string* ca_bundle) {
  if (tls.skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!tls.ca_files.empty()) {
    BERTH_ASSIGN_OR_RETURN(*ca_bundle, ReadCaBundle(tls.ca_files));
    curl_blob blob{ca_bundle->data(), ca_bundle->size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!tls.client_cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
    if (!tls.client_key_file.empty()) {
      curl_easy_setopt(c, CURLOPT_SSLKEY, tls.client_key_file.c_str());
    }
  }
  return absl::OkStatus();
}

// Sends one hop without following redirects.
absl::StatusOr<HttpResponse> Perform(const HttpRequest& request, const Hop& hop) {
  CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::ResourceExhaustedError("curl_easy_init failed");
  struct curl_slist* list = nullptr;
  for (const std::string& header : hop.headers) list = curl_slist_append(list, header.c_str());
  HeaderList headers(list, curl_slist_free_all);

  Transfer transfer;
  transfer.request = &request;
  transfer.curl = curl.get();
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::string ca_bundle;
  const char* method = hop.form_body.empty() ? "GET" : "POST";

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, hop.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, request.allow_http ? "http,https" : "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.no_progress_seconds));
  curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  if (request.cancelled) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
  }
  if (!hop.form_body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, hop.form_body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(hop.form_body.size()));
  }
  BERTH_RETURN_IF_ERROR(ApplyTls(c, request.tls, &ca_bundle));

  CURLcode code = curl_easy_perform(c);
  if (!transfer.callback_error.ok()) return transfer.callback_error;
  if (transfer.was_cancelled) {
    return absl::CancelledError(absl::StrCat(method, " ", hop.url, ": cancelled"));
  }
  if (code != CURLE_OK) {
    std::string reason = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    curl_off_t connected_us = 0;
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected_us);
    if (code == CURLE_OPERATION_TIMEDOUT && connected_us > 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(method, " ", hop.url, ": no progress for ", request.no_progress_seconds,
                       " s (", reason, ")"));
    }
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CERTPROBLEM ||
        code == CURLE_SSL_CACERT_BADFILE) {
      // Trying again cannot help: the certificates or the host's TLS settings must change.
      return absl::FailedPreconditionError(absl::StrCat(
          method, " ", hop.url, ": ", reason,
          " (set ca, client or skip_verify for this host in its hosts.toml)"));
    }
    return absl::UnavailableError(absl::StrCat(method, " ", hop.url, ": ", reason));
  }
  transfer.response.status = CurrentStatus(c);
  char* next = nullptr;
  curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next);
  transfer.response.final_url = hop.url;
  if (next != nullptr) transfer.response.headers["location"] = next;  // made absolute by curl
  return std::move(transfer.response);
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string UrlOrigin(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string scheme = ToLower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  auto at = rest.rfind('@');
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  std::string authority = ToLower(rest);
  size_t bracket = authority.rfind(']');
  size_t colon = authority.rfind(':');
  bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!has_port) absl::StrAppend(&authority, scheme == "http" ? ":80" : ":443");
  return absl::StrCat(scheme, "://", authority);
}

absl::StatusOr<HttpResponse> HttpSend(const HttpRequest& request) {
  InitCurlOnce();
  Hop hop{request.url, request.headers, request.form_body};
  for (int hops = 0;; ++hops) {
    BERTH_ASSIGN_OR_RETURN(HttpResponse response, Perform(request, hop));
    std::string next = response.Header("location");
    if (!IsRedirect(response.status) || next.empty()) return response;
    if (hops == kMaxRedirects) {
      return absl::UnavailableError(
          absl::StrCat(request.url, ": more than ", kMaxRedirects, " redirects"));
    }

    if (UrlOrigin(next) != UrlOrigin(hop.url)) {
      std::erase_if(hop.headers, [](const std::string& header) {
        return ToLower(header.substr(0, header.find(':'))) == "authorization";
      });
    }
    if (response.status != 307 && response.status != 308) hop.form_body.clear();
    hop.url = next;
  }
}

}  // namespace berth::image
