// Anonymous bearer tokens, the handshake public registries (Docker Hub among them) require even
// for anonymous pulls: a 401 carries "WWW-Authenticate: Bearer realm=...,service=...,scope=...",
// the client GETs a token from the realm and repeats the request with it. Credentials are not
// supported yet: a registry that requests Basic auth gets PermissionDenied.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace berth::image {

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

// Gets an anonymous token for `challenge` (a Bearer challenge). `allow_http` permits a plain
// http:// realm, for registries that are themselves reached over HTTP.
absl::StatusOr<std::string> FetchAnonymousToken(const AuthChallenge& challenge,
                                                std::string_view default_scope, bool allow_http);

}  // namespace berth::image
