// The shim's control protocol: one JSON request line per connection on <dir>/shim.sock, and one
// JSON response line.
//
//   {"op": "start"}                          release the created process
//   {"op": "kill", "signal": 15, "all": false}  signal the process, or every process of its cgroup
//   {"op": "state"}                          the current state
//   {"op": "wait"}                           responds when the container has stopped
//   {"op": "reopen-log"}                     reopen the CRI log file after rotation
//
// Responses: {"ok": true, "state": {...}} or {"ok": false, "code": <absl code>, "error": "..."}.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/fd.h"

namespace berth::runtime {

// Binds and listens on a unix socket at `path`, replacing a stale socket file. Paths longer than
// sun_path are reached through /proc/self/fd of their directory.
absl::StatusOr<UniqueFd> ListenUnix(const std::string& path);

// Connects to the unix socket at `path`. No socket file, or no listener, is Unavailable.
absl::StatusOr<UniqueFd> ConnectUnix(const std::string& path);

// Sends `request` to the shim at `socket_path` and returns the response's "state" object (or an
// empty object). An error response becomes a status with its code and message. DeadlineExceeded
// when no response arrives by `deadline`.
absl::StatusOr<nlohmann::json> CallShim(const std::string& socket_path,
                                        const nlohmann::json& request, absl::Time deadline);

// Builds the responses the shim sends.
nlohmann::json OkResponse(const nlohmann::json& state);
nlohmann::json ErrorResponse(const absl::Status& status);

}  // namespace berth::runtime
