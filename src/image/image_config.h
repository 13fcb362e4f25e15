// The parts of an OCI image config that running a container needs, and the layer diff ids.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace berth::image {

// The "config" object of an image config (the defaults of a container made from the image).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;             // "NAME=value"
  std::string working_dir;
  std::string user;                         // "uid", "uid:gid", "name" or "name:group"
  std::string stop_signal;                  // e.g. "SIGTERM"; empty when the image sets none
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;   // "80/tcp", sorted
  std::vector<std::string> volumes;         // "/data", sorted

  bool operator==(const ImageConfig&) const = default;
};

// A parsed image config document.
struct ParsedImageConfig {
  ImageConfig config;
  std::vector<std::string> diff_ids;  // digests of the uncompressed layers, bottom first
  std::string os;
  std::string architecture;
};

// Parses an image config (OCI or Docker). Missing optional fields stay empty; bad types or an
// invalid diff id are InvalidArgument naming `what`.
absl::StatusOr<ParsedImageConfig> ParseImageConfig(std::string_view data, std::string_view what);

// Berth's own JSON form of ImageConfig, used in image records (snake_case keys).
nlohmann::json ImageConfigToJson(const ImageConfig& config);
absl::StatusOr<ImageConfig> ImageConfigFromJson(const nlohmann::json& value);

}  // namespace berth::image
