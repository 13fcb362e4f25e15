// Loading crictl-style pod and container config files (JSON or YAML) into CRI messages.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/v1/api.pb.h"

namespace berth::ctl {

enum class ConfigFormat { kJson, kYaml };

// Picks the format of a config file: by extension (.json, or .yaml/.yml) when it has one of
// those, else by content (text whose first non-blank character is '{' is JSON, anything else
// is YAML).
ConfigFormat DetectConfigFormat(std::string_view path, std::string_view content);

// Parses YAML into a JSON tree. Quoted scalars and plain scalars both become strings, except
// that empty, "~" and "null" plain scalars become null. ConformToMessage later gives each value
// the type of its field. A syntax error is InvalidArgument with the
// line and column.
absl::StatusOr<nlohmann::json> YamlToJson(std::string_view text);

// Fills `message` from config text in the given format. Both proto field names (log_directory)
// and JSON names (logDirectory) are accepted. Errors are InvalidArgument naming the field.
absl::Status ParseConfig(std::string_view text, ConfigFormat format,
                         google::protobuf::Message* message);

// Reads the file at `path`, detects its format and fills `message`. Every error message starts
// with the path.
absl::Status LoadConfigFile(const std::string& path, google::protobuf::Message* message);

absl::StatusOr<runtime::v1::PodSandboxConfig> LoadPodSandboxConfig(const std::string& path);
absl::StatusOr<runtime::v1::ContainerConfig> LoadContainerConfig(const std::string& path);

}  // namespace berth::ctl
