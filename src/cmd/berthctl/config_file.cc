#include "cmd/berthctl/config_file.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <exception>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "cmd/berthctl/schema_json.h"

namespace berth::ctl {
namespace {

using nlohmann::json;

// Converts one YAML node. `path` names the node in errors.
absl::StatusOr<json> NodeToJson(const YAML::Node& node, const std::string& path) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return json(nullptr);
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      // yaml-cpp tags a plain (unquoted) scalar "?" and a quoted one "!".
      const bool plain = node.Tag() == "?";
      if (plain && (text.empty() || text == "~" || text == "null" || text == "Null" ||
                    text == "NULL")) {
        return json(nullptr);
      }
      return json(text);
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      size_t index = 0;
      for (const YAML::Node& item : node) {
        absl::StatusOr<json> converted = NodeToJson(item, absl::StrCat(path, "[", index++, "]"));
        if (!converted.ok()) return converted.status();
        out.push_back(*std::move(converted));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return absl::InvalidArgumentError(
              absl::StrCat(path.empty() ? "top level" : path, ": keys must be plain text"));
        }
        const std::string key = entry.first.Scalar();
        absl::StatusOr<json> converted =
            NodeToJson(entry.second, path.empty() ? key : absl::StrCat(path, ".", key));
        if (!converted.ok()) return converted.status();
        out[key] = *std::move(converted);
      }
      return out;
    }
  }
  return absl::InternalError("unknown YAML node type");
}

absl::StatusOr<json> ParseJson(std::string_view text) {
  try {
    return json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true,
                       /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    // nlohmann prefixes its messages with "[json.exception.<kind>.<id>] ", and the rest gives
    // the position.
    std::string message = e.what();
    if (const size_t end = message.find("] "); message.starts_with("[") && end != message.npos) {
      message = message.substr(end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", message));
  }
}

}  // namespace

ConfigFormat DetectConfigFormat(std::string_view path, std::string_view content) {
  const std::string lower = absl::AsciiStrToLower(std::string(path));
  if (lower.ends_with(".json")) return ConfigFormat::kJson;
  if (lower.ends_with(".yaml") || lower.ends_with(".yml")) return ConfigFormat::kYaml;
  const size_t first = content.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && content[first] == '{') return ConfigFormat::kJson;
  return ConfigFormat::kYaml;
}

absl::StatusOr<json> YamlToJson(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML at line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  return NodeToJson(root, "");
}

absl::Status ParseConfig(std::string_view text, ConfigFormat format,
                         google::protobuf::Message* message) {
  absl::StatusOr<json> tree = format == ConfigFormat::kJson ? ParseJson(text) : YamlToJson(text);
  if (!tree.ok()) return tree.status();
  if (tree->is_null()) return absl::InvalidArgumentError("the file is empty");

  absl::StatusOr<json> conformed = ConformToMessage(*tree, *message->GetDescriptor());
  if (!conformed.ok()) return conformed.status();

  // ConformToMessage has already checked names and types, so an error here is unexpected. It is
  // reported in the parser's own words.
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  message->Clear();
  const auto status =
      google::protobuf::util::JsonStringToMessage(conformed->dump(), message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read as ", message->GetDescriptor()->full_name(), ": ",
                     std::string(status.message().data(), status.message().size())));
  }
  return absl::OkStatus();
}

absl::Status LoadConfigFile(const std::string& path, google::protobuf::Message* message) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return Annotate(ParseConfig(*text, DetectConfigFormat(path, *text), message), path);
}

absl::StatusOr<runtime::v1::PodSandboxConfig> LoadPodSandboxConfig(const std::string& path) {
  runtime::v1::PodSandboxConfig config;
  BERTH_RETURN_IF_ERROR(LoadConfigFile(path, &config));
  return config;
}

absl::StatusOr<runtime::v1::ContainerConfig> LoadContainerConfig(const std::string& path) {
  runtime::v1::ContainerConfig config;
  BERTH_RETURN_IF_ERROR(LoadConfigFile(path, &config));
  return config;
}

}  // namespace berth::ctl
