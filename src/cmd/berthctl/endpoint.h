// The CRI endpoint of berthctl: chosen from the flag or the environment, and turned into a gRPC
// target.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace berth::ctl {

// The socket berthd listens on by default.
inline constexpr char kDefaultEndpoint[] = "unix:///run/berth/berth.sock";

// Picks the endpoint to use: the --runtime-endpoint flag when given, else BERTH_ENDPOINT, else
// CONTAINER_RUNTIME_ENDPOINT, else kDefaultEndpoint. Null or empty environment values are unset.
std::string ChooseEndpoint(std::string_view flag, const char* berth_env, const char* cri_env);

// Turns an endpoint into a gRPC target. Accepted forms: "unix:///abs/path", "unix:rel/path",
// and a plain path ("/run/x.sock" becomes "unix:///run/x.sock", "x.sock" becomes "unix:x.sock").
// Another scheme, an empty path, or a path longer than a unix socket address fits (107 bytes)
// is InvalidArgument.
absl::StatusOr<std::string> NormalizeEndpoint(std::string_view endpoint);

}  // namespace berth::ctl
