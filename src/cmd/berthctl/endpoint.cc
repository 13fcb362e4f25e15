#include "cmd/berthctl/endpoint.h"

#include <sys/un.h>

#include "absl/strings/str_cat.h"

namespace berth::ctl {
namespace {

bool Set(const char* value) { return value != nullptr && value[0] != '\0'; }

}  // namespace

std::string ChooseEndpoint(std::string_view flag, const char* berth_env, const char* cri_env) {
  if (!flag.empty()) return std::string(flag);
  if (Set(berth_env)) return berth_env;
  if (Set(cri_env)) return cri_env;
  return kDefaultEndpoint;
}

absl::StatusOr<std::string> NormalizeEndpoint(std::string_view endpoint) {
  const std::string original(endpoint);
  std::string_view path = endpoint;
  if (path.starts_with("unix://")) {
    path.remove_prefix(7);
    if (!path.starts_with("/")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "endpoint \"", original, "\": unix:// must be followed by an absolute path"));
    }
  } else if (path.starts_with("unix:")) {
    path.remove_prefix(5);
  } else if (path.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "endpoint \"", original, "\": only unix sockets are supported (unix:///path or a path)"));
  }

  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint \"", original, "\" has no path"));
  }
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint \"", original, "\": socket path is longer than ",
                     sizeof(sockaddr_un::sun_path) - 1, " bytes"));
  }
  if (path.starts_with("/")) return absl::StrCat("unix://", std::string(path));
  return absl::StrCat("unix:", std::string(path));
}

}  // namespace berth::ctl
