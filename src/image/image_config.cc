#include "image/image_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/json_file.h"
#include "base/status.h"
#include "image/digest.h"

namespace berth::image {
namespace {

using nlohmann::json;

absl::Status Malformed(std::string_view what, std::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat("malformed ", std::string(what), ": field \"",
                                                 std::string(field), "\" has the wrong type"));
}

// Reads an optional string field; null and absent both give "".
absl::Status ReadString(const json& object, const char* key, std::string* out,
                        std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return Malformed(what, key);
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadStrings(const json& object, const char* key, std::vector<std::string>* out,
                         std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return Malformed(what, key);
  for (const json& item : *it) {
    if (!item.is_string()) return Malformed(what, key);
    out->push_back(item.get<std::string>());
  }
  return absl::OkStatus();
}

// Reads an object used as a set ({"80/tcp": {}}) as its sorted keys.
absl::Status ReadKeySet(const json& object, const char* key, std::vector<std::string>* out,
                        std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_object()) return Malformed(what, key);
  for (auto item = it->begin(); item != it->end(); ++item) out->push_back(item.key());
  std::sort(out->begin(), out->end());
  return absl::OkStatus();
}

absl::Status ReadStringMap(const json& object, const char* key,
                           std::map<std::string, std::string>* out, std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_object()) return Malformed(what, key);
  for (auto item = it->begin(); item != it->end(); ++item) {
    if (!item.value().is_string()) return Malformed(what, key);
    (*out)[item.key()] = item.value().get<std::string>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedImageConfig> ParseImageConfig(std::string_view data, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(json document, ParseJson(data, what));
  if (!document.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", std::string(what),
                                                   ": not a JSON object"));
  }
  ParsedImageConfig parsed;
  BERTH_RETURN_IF_ERROR(ReadString(document, "os", &parsed.os, what));
  BERTH_RETURN_IF_ERROR(ReadString(document, "architecture", &parsed.architecture, what));

  auto inner = document.find("config");
  if (inner != document.end() && !inner->is_null()) {
    if (!inner->is_object()) return Malformed(what, "config");
    ImageConfig& config = parsed.config;
    BERTH_RETURN_IF_ERROR(ReadStrings(*inner, "Entrypoint", &config.entrypoint, what));
    BERTH_RETURN_IF_ERROR(ReadStrings(*inner, "Cmd", &config.cmd, what));
    BERTH_RETURN_IF_ERROR(ReadStrings(*inner, "Env", &config.env, what));
    BERTH_RETURN_IF_ERROR(ReadString(*inner, "WorkingDir", &config.working_dir, what));
    BERTH_RETURN_IF_ERROR(ReadString(*inner, "User", &config.user, what));
    BERTH_RETURN_IF_ERROR(ReadString(*inner, "StopSignal", &config.stop_signal, what));
    BERTH_RETURN_IF_ERROR(ReadStringMap(*inner, "Labels", &config.labels, what));
    BERTH_RETURN_IF_ERROR(ReadKeySet(*inner, "ExposedPorts", &config.exposed_ports, what));
    BERTH_RETURN_IF_ERROR(ReadKeySet(*inner, "Volumes", &config.volumes, what));
  }

  auto rootfs = document.find("rootfs");
  if (rootfs == document.end() || !rootfs->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", std::string(what),
                                                   ": missing \"rootfs\""));
  }
  BERTH_RETURN_IF_ERROR(ReadStrings(*rootfs, "diff_ids", &parsed.diff_ids, what));
  for (const std::string& diff_id : parsed.diff_ids) {
    absl::Status valid = ValidateDigest(diff_id);
    if (!valid.ok()) return Annotate(valid, absl::StrCat(std::string(what), ": diff id"));
  }
  return parsed;
}

json ImageConfigToJson(const ImageConfig& config) {
  return {{"entrypoint", config.entrypoint},   {"cmd", config.cmd},
          {"env", config.env},                 {"working_dir", config.working_dir},
          {"user", config.user},               {"stop_signal", config.stop_signal},
          {"labels", config.labels},           {"exposed_ports", config.exposed_ports},
          {"volumes", config.volumes}};
}

absl::StatusOr<ImageConfig> ImageConfigFromJson(const json& value) {
  constexpr std::string_view kWhat = "image record config";
  if (!value.is_object()) return Malformed(kWhat, "config");
  ImageConfig config;
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "entrypoint", &config.entrypoint, kWhat));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "cmd", &config.cmd, kWhat));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "env", &config.env, kWhat));
  BERTH_RETURN_IF_ERROR(ReadString(value, "working_dir", &config.working_dir, kWhat));
  BERTH_RETURN_IF_ERROR(ReadString(value, "user", &config.user, kWhat));
  BERTH_RETURN_IF_ERROR(ReadString(value, "stop_signal", &config.stop_signal, kWhat));
  BERTH_RETURN_IF_ERROR(ReadStringMap(value, "labels", &config.labels, kWhat));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "exposed_ports", &config.exposed_ports, kWhat));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "volumes", &config.volumes, kWhat));
  return config;
}

}  // namespace berth::image
