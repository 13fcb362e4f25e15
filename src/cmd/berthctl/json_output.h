// JSON and YAML output of berthctl: responses printed as crictl prints them, in proto3 JSON
// with lowerCamel field names and every field present, default values included.
#pragma once

#include <google/protobuf/map.h>
#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace berth::ctl {

enum class OutputFormat { kTable, kJson, kYaml };

// Reads an -o value: "json", "yaml", and "table" when `allow_table` is set. Anything else is
// InvalidArgument listing the accepted values.
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view text, bool allow_table);

// The message as a JSON tree in field order: lowerCamel names, default values printed,
// 64-bit integers as text, bytes as base64.
absl::StatusOr<nlohmann::ordered_json> MessageToJsonTree(const google::protobuf::Message& message);

// The verbose info map of a status response: values that hold JSON are embedded as JSON,
// others are kept as text. Keys come out sorted.
nlohmann::ordered_json InfoToJson(const google::protobuf::Map<std::string, std::string>& info);

// The `inspect` form: {"status": <status>, "info": <info>}, with "info" left out when empty.
absl::StatusOr<nlohmann::ordered_json> StatusWithInfo(
    const google::protobuf::Message& status,
    const google::protobuf::Map<std::string, std::string>& info);

// YAML text for a JSON tree: block style, keys in the tree's order.
std::string JsonToYaml(const nlohmann::ordered_json& tree);

// The tree as text for printing: indented JSON (two spaces) or YAML, ending with a newline.
// kTable is treated as JSON.
std::string RenderTree(const nlohmann::ordered_json& tree, OutputFormat format);

}  // namespace berth::ctl
