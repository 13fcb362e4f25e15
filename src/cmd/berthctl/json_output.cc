#include "cmd/berthctl/json_output.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace berth::ctl {
namespace {

using nlohmann::ordered_json;

void EmitYaml(const ordered_json& tree, YAML::Emitter* out) {
  switch (tree.type()) {
    case ordered_json::value_t::object:
      if (tree.empty()) {
        *out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      *out << YAML::BeginMap;
      for (const auto& [key, value] : tree.items()) {
        *out << YAML::Key << key << YAML::Value;
        EmitYaml(value, out);
      }
      *out << YAML::EndMap;
      return;
    case ordered_json::value_t::array:
      if (tree.empty()) {
        *out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      *out << YAML::BeginSeq;
      for (const auto& value : tree) EmitYaml(value, out);
      *out << YAML::EndSeq;
      return;
    case ordered_json::value_t::string: {
      // Quote text that a YAML reader would otherwise take for another type.
      const std::string text = tree.get<std::string>();
      const ordered_json reread = ordered_json::parse(text, nullptr, false);
      const bool ambiguous = text.empty() || text == "~" || text == "null" || text == "yes" ||
                             text == "no" || !reread.is_discarded();
      if (ambiguous) *out << YAML::DoubleQuoted;
      *out << text;
      return;
    }
    case ordered_json::value_t::null:
      *out << YAML::Null;
      return;
    default:
      // Numbers and booleans print the same in YAML as in JSON.
      *out << tree.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
      return;
  }
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view text, bool allow_table) {
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  if (allow_table && text == "table") return OutputFormat::kTable;
  return absl::InvalidArgumentError(absl::StrCat("unknown output format \"", std::string(text),
                                                 "\" (use ", allow_table ? "table, " : "",
                                                 "json or yaml)"));
}

absl::StatusOr<ordered_json> MessageToJsonTree(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = false;
  std::string text;
  const auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetDescriptor()->full_name(),
                                            " as JSON: ", status.ToString()));
  }
  ordered_json tree = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (tree.is_discarded()) {
    return absl::InternalError(
        absl::StrCat("JSON of ", message.GetDescriptor()->full_name(), " does not parse back"));
  }
  return tree;
}

ordered_json InfoToJson(const google::protobuf::Map<std::string, std::string>& info) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : info) keys.push_back(key);
  std::sort(keys.begin(), keys.end());

  ordered_json out = ordered_json::object();
  for (const std::string& key : keys) {
    const std::string& value = info.at(key);
    ordered_json parsed = ordered_json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      out[key] = value;
    } else {
      out[key] = std::move(parsed);
    }
  }
  return out;
}

absl::StatusOr<ordered_json> StatusWithInfo(
    const google::protobuf::Message& status,
    const google::protobuf::Map<std::string, std::string>& info) {
  absl::StatusOr<ordered_json> status_tree = MessageToJsonTree(status);
  if (!status_tree.ok()) return status_tree.status();
  ordered_json out = ordered_json::object();
  out["status"] = *std::move(status_tree);
  if (!info.empty()) out["info"] = InfoToJson(info);
  return out;
}

std::string JsonToYaml(const ordered_json& tree) {
  YAML::Emitter out;
  EmitYaml(tree, &out);
  return out.c_str();
}

std::string RenderTree(const ordered_json& tree, OutputFormat format) {
  if (format == OutputFormat::kYaml) return absl::StrCat(JsonToYaml(tree), "\n");
  // Text that is not UTF-8 (say, from an info value) is printed with replacement characters.
  return absl::StrCat(tree.dump(2, ' ', false, ordered_json::error_handler_t::replace), "\n");
}

}  // namespace berth::ctl
