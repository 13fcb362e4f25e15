#include "image/registry_auth.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/json_file.h"
#include "base/status.h"
#include "image/http_client.h"
#include "image/text.h"

namespace berth::image {
namespace {

constexpr int64_t kMaxTokenResponseBytes = 1 << 20;

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string result;
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += kHex[c >> 4];
      result += kHex[c & 0xf];
    }
  }
  return result;
}

// Reads `key=value` or `key="quoted \" value"` from the front of `text`.
bool ReadParam(std::string_view& text, std::string* key, std::string* value) {
  text = Trim(text);
  auto equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) return false;
  *key = ToLower(Trim(text.substr(0, equals)));
  text.remove_prefix(equals + 1);
  text = Trim(text);
  value->clear();
  if (!text.empty() && text.front() == '"') {
    size_t i = 1;
    for (; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      *value += text[i];
    }
    if (i >= text.size()) return false;  // no closing quote
    text.remove_prefix(i + 1);
  } else {
    auto end = text.find(',');
    *value = std::string(Trim(text.substr(0, end)));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
  }
  text = Trim(text);
  if (!text.empty()) {
    if (text.front() != ',') return false;
    text.remove_prefix(1);
  }
  return true;
}

}  // namespace

std::optional<AuthChallenge> ParseAuthChallenge(std::string_view header) {
  header = Trim(header);
  auto space = header.find(' ');
  AuthChallenge challenge;
  challenge.scheme = ToLower(header.substr(0, space));
  if (challenge.scheme.empty()) return std::nullopt;
  std::string_view rest = space == std::string_view::npos ? "" : header.substr(space + 1);
  while (!Trim(rest).empty()) {
    std::string key;
    std::string value;
    if (!ReadParam(rest, &key, &value)) return std::nullopt;
    challenge.params[key] = value;
  }
  return challenge;
}

std::string TokenUrl(const AuthChallenge& challenge, std::string_view default_scope) {
  auto param = [&](const char* key) {
    auto it = challenge.params.find(key);
    return it == challenge.params.end() ? std::string() : it->second;
  };
  std::string url = param("realm");
  std::string service = param("service");
  std::string scope = param("scope");
  if (scope.empty()) scope = std::string(default_scope);
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  if (!service.empty()) {
    absl::StrAppend(&url, std::string(1, separator), "service=", UrlEncode(service));
    separator = '&';
  }
  if (!scope.empty()) absl::StrAppend(&url, std::string(1, separator), "scope=", UrlEncode(scope));
  return url;
}

absl::StatusOr<std::string> FetchAnonymousToken(const AuthChallenge& challenge,
                                                std::string_view default_scope, bool allow_http) {
  if (!challenge.params.contains("realm")) {
    return absl::PermissionDeniedError("registry sent a Bearer challenge without a realm");
  }
  HttpRequest request;
  request.url = TokenUrl(challenge, default_scope);
  request.allow_http = allow_http;
  request.max_body_bytes = kMaxTokenResponseBytes;
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, HttpGet(request));
  if (response.status != 200) {
    return absl::PermissionDeniedError(absl::StrCat("token request to ", request.url,
                                                    " failed with HTTP ", response.status));
  }
  BERTH_ASSIGN_OR_RETURN(nlohmann::json body, ParseJson(response.body, "token response"));
  for (const char* key : {"token", "access_token"}) {
    if (body.is_object() && body.contains(key) && body[key].is_string() &&
        !body[key].get<std::string>().empty()) {
      return body[key].get<std::string>();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("token response from ", request.url, " has no token"));
}

}  // namespace berth::image
