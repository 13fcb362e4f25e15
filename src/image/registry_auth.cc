#include "image/registry_auth.h"

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/json_file.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/text.h"

namespace berth::image {
namespace {

constexpr int64_t kMaxTokenResponseBytes = 1 << 20;
// The distribution spec's lifetime of a token whose response gives none.
constexpr int64_t kDefaultTokenSeconds = 60;
// A token is not used in the last seconds of its life, so it cannot expire on the way.
constexpr auto kExpiryMargin = std::chrono::seconds(5);
constexpr const char* kClientId = "berth";

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

std::string Param(const AuthChallenge& challenge, const char* key) {
  auto it = challenge.params.find(key);
  return it == challenge.params.end() ? std::string() : it->second;
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
  std::string url = Param(challenge, "realm");
  std::string service = Param(challenge, "service");
  std::string scope = Param(challenge, "scope");
  if (scope.empty()) scope = std::string(default_scope);
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  if (!service.empty()) {
    absl::StrAppend(&url, std::string(1, separator), "service=", UrlEncode(service));
    separator = '&';
  }
  if (!scope.empty()) absl::StrAppend(&url, std::string(1, separator), "scope=", UrlEncode(scope));
  return url;
}

std::string PullScope(std::string_view repository_path) {
  return absl::StrCat("repository:", std::string(repository_path), ":pull");
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>> UserAndPassword(
    const Credentials& credentials) {
  if (!credentials.username.empty()) {
    return std::make_optional(std::make_pair(credentials.username, credentials.password));
  }
  if (credentials.auth.empty()) return std::nullopt;
  std::string decoded;
  if (!absl::Base64Unescape(credentials.auth, &decoded)) {
    return absl::InvalidArgumentError("auth.auth is not valid base64");
  }
  auto colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError("auth.auth must be the base64 of \"user:password\"");
  }
  return std::make_optional(std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1)));
}

std::string BasicAuthorization(const std::string& user, const std::string& password) {
  return absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(user, ":", password)));
}

std::string CredentialsFingerprint(const Credentials& credentials) {
  if (credentials.empty()) return "";
  // Length-prefixed, so that moving text from one field to the next changes the result.
  std::string joined;
  for (const std::string* field : {&credentials.username, &credentials.password,
                                   &credentials.auth, &credentials.identity_token,
                                   &credentials.registry_token}) {
    absl::StrAppend(&joined, field->size(), ":", *field, ";");
  }
  return DigestHex(Sha256Digest(joined)).substr(0, 16);
}

absl::StatusOr<BearerToken> ParseTokenResponse(const std::string& body, WallClock::time_point now,
                                               const std::string& origin_for_errors) {
  BERTH_ASSIGN_OR_RETURN(nlohmann::json json, ParseJson(body, "token response"));
  if (!json.is_object()) {
    return absl::PermissionDeniedError(
        absl::StrCat("token response from ", origin_for_errors, " is not a JSON object"));
  }
  BearerToken token;
  for (const char* key : {"token", "access_token"}) {
    if (json.contains(key) && json[key].is_string() && !json[key].get<std::string>().empty()) {
      token.value = json[key].get<std::string>();
      break;
    }
  }
  if (token.value.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("token response from ", origin_for_errors, " has no token"));
  }

  int64_t lifetime = kDefaultTokenSeconds;
  if (json.contains("expires_in") && json["expires_in"].is_number_integer() &&
      json["expires_in"].get<int64_t>() > 0) {
    lifetime = json["expires_in"].get<int64_t>();
  }
  WallClock::time_point issued = now;
  if (json.contains("issued_at") && json["issued_at"].is_string()) {
    absl::Time parsed;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, json["issued_at"].get<std::string>(), &parsed,
                        &error)) {
      issued = absl::ToChronoTime(parsed);
      // A server clock far ahead or behind must not make a token live forever or never.
      if (issued > now) issued = now;
    }
  }
  token.expires = issued + std::chrono::seconds(lifetime);
  return token;
}

std::string TokenCache::Key(std::string_view host, std::string_view scope,
                            std::string_view fingerprint) {
  return absl::StrCat(std::string(host), " ", std::string(scope), " ", std::string(fingerprint));
}

std::optional<std::string> TokenCache::Get(const std::string& key,
                                           WallClock::time_point now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = tokens_.find(key);
  if (it == tokens_.end() || it->second.expires - kExpiryMargin <= now) return std::nullopt;
  return it->second.value;
}

void TokenCache::Put(const std::string& key, BearerToken token) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (tokens_.size() >= kMaxEntries && !tokens_.contains(key)) {
    WallClock::time_point now = WallClock::now();
    std::erase_if(tokens_, [now](const auto& entry) { return entry.second.expires <= now; });
    while (tokens_.size() >= kMaxEntries) {
      auto oldest = tokens_.begin();
      for (auto it = tokens_.begin(); it != tokens_.end(); ++it) {
        if (it->second.expires < oldest->second.expires) oldest = it;
      }
      tokens_.erase(oldest);
    }
  }
  tokens_[key] = std::move(token);
}

size_t TokenCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tokens_.size();
}

std::optional<AuthChallenge> AuthState::Challenge(const std::string& host) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = challenges_.find(host);
  if (it == challenges_.end()) return std::nullopt;
  return it->second;
}

void AuthState::SetChallenge(const std::string& host, AuthChallenge challenge) {
  std::lock_guard<std::mutex> lock(mutex_);
  challenges_[host] = std::move(challenge);
}

std::string Authorizer::CachedAuthorization(const std::string& host,
                                            const std::string& scope) const {
  std::optional<AuthChallenge> challenge = state_.Challenge(host);
  if (!challenge) return "";
  if (challenge->scheme == "basic") {
    auto user = UserAndPassword(credentials_);
    if (!user.ok() || !user->has_value()) return "";
    return BasicAuthorization((*user)->first, (*user)->second);
  }
  if (challenge->scheme != "bearer") return "";
  if (!credentials_.registry_token.empty()) {
    return absl::StrCat("Bearer ", credentials_.registry_token);
  }
  auto token = state_.tokens().Get(TokenCache::Key(host, scope, fingerprint_), WallClock::now());
  return token ? absl::StrCat("Bearer ", *token) : "";
}

absl::StatusOr<std::string> Authorizer::Answer(const std::string& host,
                                               const std::string& www_authenticate,
                                               const std::string& scope,
                                               const TokenTransport& transport) {
  std::optional<AuthChallenge> challenge = ParseAuthChallenge(www_authenticate);
  if (!challenge) {
    return absl::PermissionDeniedError(absl::StrCat(
        "registry ", host, " responded 401 with an invalid challenge \"", www_authenticate,
        "\""));
  }
  if (challenge->scheme == "basic") {
    BERTH_ASSIGN_OR_RETURN(auto user, UserAndPassword(credentials_));
    if (!user) {
      return absl::PermissionDeniedError(absl::StrCat(
          "registry ", host, " asks for a user name and password and the pull has none"));
    }
    state_.SetChallenge(host, *challenge);
    return BasicAuthorization(user->first, user->second);
  }
  if (challenge->scheme != "bearer") {
    return absl::PermissionDeniedError(absl::StrCat(
        "registry ", host, " asks for the unsupported auth scheme \"", challenge->scheme, "\""));
  }

  state_.SetChallenge(host, *challenge);
  if (!credentials_.registry_token.empty()) {
    return absl::StrCat("Bearer ", credentials_.registry_token);
  }
  BERTH_ASSIGN_OR_RETURN(BearerToken token, FetchToken(*challenge, scope, transport));
  std::string value = token.value;
  state_.tokens().Put(TokenCache::Key(host, scope, fingerprint_), std::move(token));
  return absl::StrCat("Bearer ", value);
}

absl::StatusOr<BearerToken> Authorizer::FetchToken(const AuthChallenge& challenge,
                                                   const std::string& scope,
                                                   const TokenTransport& transport) const {
  std::string realm = Param(challenge, "realm");
  if (realm.empty()) {
    return absl::PermissionDeniedError("registry sent a Bearer challenge without a realm");
  }
  HttpRequest request;
  request.allow_http = transport.allow_http;
  request.max_body_bytes = kMaxTokenResponseBytes;
  request.no_progress_seconds = transport.no_progress_seconds;
  request.cancelled = transport.cancelled;
  if (UrlOrigin(realm) == transport.registry_origin) request.tls = transport.registry_tls;

  std::string who = "anonymously";
  if (!credentials_.identity_token.empty()) {
    // An identity token is an OAuth2 refresh token: it is traded with a POST.
    std::string wanted = Param(challenge, "scope").empty() ? scope : Param(challenge, "scope");
    request.url = realm;
    request.form_body = absl::StrCat(
        "grant_type=refresh_token&refresh_token=", UrlEncode(credentials_.identity_token),
        "&service=", UrlEncode(Param(challenge, "service")), "&scope=", UrlEncode(wanted),
        "&client_id=", kClientId);
    who = "with an identity token";
  } else {
    request.url = TokenUrl(challenge, scope);
    BERTH_ASSIGN_OR_RETURN(auto user, UserAndPassword(credentials_));
    if (user) {
      request.headers.push_back(
          absl::StrCat("Authorization: ", BasicAuthorization(user->first, user->second)));
      who = absl::StrCat("as user ", user->first);
    }
  }

  auto response = HttpSend(request);
  if (!response.ok()) return Annotate(response.status(), absl::StrCat("token request ", who));
  if (response->status != 200) {
    return absl::PermissionDeniedError(absl::StrCat("token server ", realm, " rejected a token request ",
                                                    who, " for ", scope, " (HTTP ",
                                                    response->status, ")"));
  }
  return ParseTokenResponse(response->body, WallClock::now(), realm);
}

}  // namespace berth::image
