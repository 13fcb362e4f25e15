// Registry authentication. A registry that requires credentials responds 401 with
// "WWW-Authenticate: Bearer realm=...,service=...,scope=..." or "Basic realm=...". For Bearer
// the client trades its credentials (or nothing, for anonymous pulls) for a token at the realm
// and repeats the request with "Authorization: Bearer <token>"; for Basic it sends the user
// and password with every request. Tokens are cached per (host, scope, credentials) until they
// expire, and the challenge a host sent is remembered, so later requests carry the header from
// the start and cost no extra round trip.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "image/http_client.h"
#include "image/pull_options.h"

namespace berth::image {

using WallClock = std::chrono::system_clock;

struct AuthChallenge {
  std::string scheme;                         // "bearer" or "basic", lowercased
  std::map<std::string, std::string> params;  // keys lowercased: "realm", "service", "scope"
};

// Parses one WWW-Authenticate header value. Returns nullopt when it is not of the form
// `Scheme key="value", key=value, ...`.
std::optional<AuthChallenge> ParseAuthChallenge(std::string_view header);

// Builds the token URL for a bearer challenge: realm?service=...&scope=... (values
// URL-encoded; parts absent from the challenge are left out). `default_scope` is used when the
// challenge names no scope, e.g. "repository:library/busybox:pull".
std::string TokenUrl(const AuthChallenge& challenge, std::string_view default_scope);

// The pull scope of a repository path: "repository:<path>:pull".
std::string PullScope(std::string_view repository_path);

// A user name and password from Credentials: `username`/`password` when a user name is set,
// otherwise the base64 "user:password" of `auth`. InvalidArgument when `auth` does not decode
// or has no ':'; nullopt when neither form is given.
absl::StatusOr<std::optional<std::pair<std::string, std::string>>> UserAndPassword(
    const Credentials& credentials);

// "Basic <base64(user:password)>".
std::string BasicAuthorization(const std::string& user, const std::string& password);

// A short stable fingerprint of `credentials` for cache keys ("" for anonymous), so that two
// pulls with different credentials never share a token.
std::string CredentialsFingerprint(const Credentials& credentials);

struct BearerToken {
  std::string value;
  WallClock::time_point expires;
};

// Parses a token server's JSON response: "token" or "access_token", "expires_in" seconds (60 when
// absent, as the distribution spec says) counted from "issued_at" (RFC 3339) or else `now`.
// PermissionDenied when it holds no token.
absl::StatusOr<BearerToken> ParseTokenResponse(const std::string& body, WallClock::time_point now,
                                               const std::string& origin_for_errors);

// Bearer tokens by key, thread-safe. An entry stops being returned a few seconds before it
// expires. Holds at most kMaxEntries entries: expired ones go first, then the oldest.
class TokenCache {
 public:
  static constexpr size_t kMaxEntries = 512;

  // The key of a token for `host` (its origin URL), `scope` and credentials fingerprint.
  static std::string Key(std::string_view host, std::string_view scope,
                         std::string_view fingerprint);

  std::optional<std::string> Get(const std::string& key, WallClock::time_point now) const;
  void Put(const std::string& key, BearerToken token);
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, BearerToken> tokens_;
};

// Authentication state shared by every pull of one RegistryClient: the last challenge of each
// host and the token cache. Thread-safe.
class AuthState {
 public:
  std::optional<AuthChallenge> Challenge(const std::string& host) const;
  void SetChallenge(const std::string& host, AuthChallenge challenge);
  TokenCache& tokens() { return tokens_; }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, AuthChallenge> challenges_;  // by host origin
  TokenCache tokens_;
};

// Transport settings for token requests, taken from the registry request that received the
// challenge: plain HTTP allowed or not, TLS when the realm is on the same host, cancellation.
struct TokenTransport {
  bool allow_http = false;
  std::string registry_origin;
  TlsOptions registry_tls;
  int64_t no_progress_seconds = 60;
  std::function<bool()> cancelled;
};

// The Authorization headers of one pull: its credentials over the shared AuthState.
class Authorizer {
 public:
  Authorizer(AuthState& state, Credentials credentials)
      : state_(state), credentials_(std::move(credentials)),
        fingerprint_(CredentialsFingerprint(credentials_)) {}

  // The header value ("Bearer ...", "Basic ...") to send to `host` for `scope` from what is
  // known already, or "" to send the request without one.
  std::string CachedAuthorization(const std::string& host, const std::string& scope) const;

  // Responds to the challenge in `www_authenticate` from `host`: fetches a token (anonymously or
  // with the credentials) or builds a Basic header, remembers it, and returns the header value
  // to repeat the request with. PermissionDenied when the challenge is unusable, Basic auth is
  // asked without credentials, or the token server refuses; Unavailable when it is unreachable.
  absl::StatusOr<std::string> Answer(const std::string& host, const std::string& www_authenticate,
                                     const std::string& scope, const TokenTransport& transport);

  bool has_credentials() const { return !credentials_.empty(); }

 private:
  absl::StatusOr<BearerToken> FetchToken(const AuthChallenge& challenge, const std::string& scope,
                                         const TokenTransport& transport) const;

  AuthState& state_;
  Credentials credentials_;
  std::string fingerprint_;
};

}  // namespace berth::image
