// What a caller can add to one pull: credentials for the registry, a way to cancel it, and a
// callback that watches its progress. Every field is optional; a default PullOptions is an
// anonymous pull that runs to the end without reporting.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace berth::image {

// Registry credentials in the forms CRI's AuthConfig carries. At most one form is used, in
// this order: registry_token (sent as a bearer token), identity_token (an OAuth2 refresh
// token traded at the token server), username and password, `auth` (base64 "user:password").
struct Credentials {
  std::string username;
  std::string password;
  std::string auth;
  std::string identity_token;
  std::string registry_token;

  bool empty() const {
    return username.empty() && password.empty() && auth.empty() && identity_token.empty() &&
           registry_token.empty();
  }
};

// One progress report: the blob it is about and how far its download has come.
struct PullProgress {
  std::string digest;       // the blob ("sha256:<hex>")
  std::string kind;         // "manifest", "config" or "layer"
  uint64_t total = 0;       // its size from the manifest
  uint64_t downloaded = 0;  // bytes received and verified so far
  bool done = false;        // downloaded, verified and (for layers) unpacked
  bool reused = false;      // present before this pull, so nothing was fetched
};

struct PullOptions {
  Credentials credentials;
  // Polled between chunks; returning true stops the pull with Cancelled. Empty: never.
  std::function<bool()> cancelled;
  // Called from download threads, possibly concurrently; must be cheap and thread-safe.
  std::function<void(const PullProgress&)> on_progress;
};

}  // namespace berth::image
