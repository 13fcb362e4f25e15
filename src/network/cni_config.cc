#include "network/cni_config.h"

#include <dirent.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"

namespace berth::network {
namespace {

constexpr const char* kSupportedVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

absl::Status Invalid(const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("CNI config ", path, ": ", why));
}

absl::Status CheckPlugin(const nlohmann::json& plugin, size_t index, const std::string& path) {
  std::string where = absl::StrCat("plugin ", index);
  if (!plugin.is_object()) return Invalid(path, where + " is not a JSON object");
  auto type = plugin.find("type");
  if (type == plugin.end() || !type->is_string() || type->get<std::string>().empty()) {
    return Invalid(path, where + " has no \"type\" string");
  }
  std::string name = type->get<std::string>();
  // The type names a binary in the plugin folders, so it must not climb out of them.
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return Invalid(path, absl::StrCat(where, " has type \"", name, "\", which is not a file name"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> StringField(const nlohmann::json& json, const char* key,
                                        const std::string& path) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Invalid(path, absl::StrCat("\"", key, "\" is missing or not a non-empty string"));
  }
  return it->get<std::string>();
}

}  // namespace

bool IsSupportedCniVersion(const std::string& version) {
  return std::find(std::begin(kSupportedVersions), std::end(kSupportedVersions), version) !=
         std::end(kSupportedVersions);
}

std::string CniNetworkConfig::Type(size_t index) const {
  return plugins.at(index).value("type", std::string());
}

absl::StatusOr<CniNetworkConfig> ParseCniConfig(const std::string& text, const std::string& path) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Invalid(path, "not valid JSON");
  if (!json.is_object()) return Invalid(path, "not a JSON object");

  CniNetworkConfig config;
  config.path = path;
  auto name = StringField(json, "name", path);
  if (!name.ok()) return name.status();
  config.name = *name;
  auto version = StringField(json, "cniVersion", path);
  if (!version.ok()) return version.status();
  config.cni_version = *version;
  if (!IsSupportedCniVersion(config.cni_version)) {
    return Invalid(path, absl::StrCat("cniVersion \"", config.cni_version, "\" is not one of ",
                                      absl::StrJoin(kSupportedVersions, ", ")));
  }

  if (absl::EndsWith(path, ".conflist")) {
    auto plugins = json.find("plugins");
    if (plugins == json.end() || !plugins->is_array() || plugins->empty()) {
      return Invalid(path, "\"plugins\" is missing or not a non-empty list");
    }
    for (const nlohmann::json& plugin : *plugins) config.plugins.push_back(plugin);
  } else {
    config.plugins.push_back(json);
  }
  for (size_t i = 0; i < config.plugins.size(); ++i) {
    if (absl::Status status = CheckPlugin(config.plugins[i], i, path); !status.ok()) return status;
  }
  return config;
}

std::vector<std::string> ListCniConfigFiles(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (struct dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (name.empty() || name[0] == '.') continue;
    if (absl::EndsWith(name, ".conflist") || absl::EndsWith(name, ".conf") ||
        absl::EndsWith(name, ".json")) {
      names.push_back(name);
    }
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());
  for (std::string& name : names) name = JoinPath(dir, name);
  return names;
}

absl::StatusOr<CniNetworkConfig> LoadCniConfig(const std::string& dir) {
  std::vector<std::string> files = ListCniConfigFiles(dir);
  if (files.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no CNI network config (.conflist, .conf or .json) in ", dir));
  }
  auto text = ReadFile(files.front());
  if (!text.ok()) return text.status();
  return ParseCniConfig(*text, files.front());
}

}  // namespace berth::network
