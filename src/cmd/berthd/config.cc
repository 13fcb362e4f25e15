#include "cmd/berthd/config.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"

namespace berth::berthd {
namespace {

// Maximum length of a value shown in a type error. Longer values are cut.
constexpr size_t kMaxShownValue = 80;

// Maximum length of a unix socket path, without its NUL.
constexpr size_t kMaxSocketPath = 107;

// Sets one field from a TOML node; `key` is the dotted name used in errors.
using Setter = std::function<absl::Status(const toml::node& node, const std::string& key)>;
using Section = std::map<std::string, Setter>;

// "integer 42", "array [1, 2]", ...
std::string Describe(const toml::node& node) {
  std::ostringstream type;
  type << node.type();
  std::ostringstream value;
  node.visit([&value](const auto& n) { value << n; });
  std::string shown = value.str();
  if (shown.size() > kMaxShownValue) shown = shown.substr(0, kMaxShownValue) + "...";
  return absl::StrCat(type.str(), " ", shown);
}

absl::Status TypeError(const std::string& key, const std::string& origin, const char* expected,
                       const toml::node& node) {
  return absl::InvalidArgumentError(
      absl::StrCat(key, " in ", origin, " must be ", expected, ", got ", Describe(node)));
}

Setter StringField(std::string& field, const std::string& origin) {
  return [&field, origin](const toml::node& node, const std::string& key) {
    const toml::value<std::string>* value = node.as_string();
    if (value == nullptr) return TypeError(key, origin, "a string", node);
    field = value->get();
    return absl::OkStatus();
  };
}

Setter StringListField(std::vector<std::string>& field, const std::string& origin) {
  return [&field, origin](const toml::node& node, const std::string& key) {
    const toml::array* array = node.as_array();
    if (array == nullptr) return TypeError(key, origin, "an array of strings", node);
    std::vector<std::string> values;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::value<std::string>* value = (*array)[i].as_string();
      if (value == nullptr) {
        return TypeError(absl::StrCat(key, "[", i, "]"), origin, "a string", (*array)[i]);
      }
      values.push_back(value->get());
    }
    field = std::move(values);
    return absl::OkStatus();
  };
}

Setter IntField(int& field, const std::string& origin) {
  return [&field, origin](const toml::node& node, const std::string& key) {
    const toml::value<int64_t>* value = node.as_integer();
    if (value == nullptr) return TypeError(key, origin, "an integer", node);
    if (value->get() < INT32_MIN || value->get() > INT32_MAX) {
      return TypeError(key, origin, "a 32-bit integer", node);
    }
    field = static_cast<int>(value->get());
    return absl::OkStatus();
  };
}

Setter BoolField(bool& field, const std::string& origin) {
  return [&field, origin](const toml::node& node, const std::string& key) {
    const toml::value<bool>* value = node.as_boolean();
    if (value == nullptr) return TypeError(key, origin, "true or false", node);
    field = value->get();
    return absl::OkStatus();
  };
}

// The known sections and keys, each bound to its field of `config`.
std::map<std::string, Section> Schema(Config& config, const std::string& origin) {
  return {
      {"daemon",
       {{"root", StringField(config.daemon.root, origin)},
        {"state", StringField(config.daemon.state, origin)},
        {"listen", StringField(config.daemon.listen, origin)},
        {"log_level", StringField(config.daemon.log_level, origin)}}},
      {"image",
       {{"insecure_registries", StringListField(config.image.insecure_registries, origin)},
        {"sandbox_image", StringField(config.image.sandbox_image, origin)},
        {"registry_config_dir", StringField(config.image.registry_config_dir, origin)},
        {"pull_progress_timeout_seconds",
         IntField(config.image.pull_progress_timeout_seconds, origin)},
        {"max_concurrent_downloads", IntField(config.image.max_concurrent_downloads, origin)},
        {"keep_layer_blobs", BoolField(config.image.keep_layer_blobs, origin)}}},
      {"runtime",
       {{"shim_path", StringField(config.runtime.shim_path, origin)},
        {"pause_path", StringField(config.runtime.pause_path, origin)},
        {"cgroup_driver", StringField(config.runtime.cgroup_driver, origin)},
        {"userns_ownership", StringField(config.runtime.userns_ownership, origin)}}},
      {"network",
       {{"conf_dir", StringField(config.network.conf_dir, origin)},
        {"bin_dirs", StringListField(config.network.bin_dirs, origin)},
        {"plugin_timeout_seconds", IntField(config.network.plugin_timeout_seconds, origin)}}},
  };
}

absl::Status ApplySection(const toml::table& table, const std::string& name, const Section& section,
                          const std::string& origin) {
  for (const auto& [key, node] : table) {
    std::string full_key = absl::StrCat(name, ".", std::string(key.str()));
    auto setter = section.find(std::string(key.str()));
    if (setter == section.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown key ", full_key, " in ", origin));
    }
    if (absl::Status status = setter->second(node, full_key); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckPath(const std::string& key, const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " must be an absolute path, got \"", path, "\""));
  }
  if (path.find('\0') != std::string::npos || path.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        key, " must not contain NUL or newline characters, got \"", absl::CEscape(path), "\""));
  }
  return absl::OkStatus();
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

// host[:port], where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
absl::Status CheckRegistry(const std::string& key, const std::string& registry) {
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " entry \"", absl::CEscape(registry), "\" ", why));
  };
  std::string host = registry;
  std::string port;
  if (!registry.empty() && registry[0] == '[') {
    size_t close = registry.find(']');
    if (close == std::string::npos) return bad("has an unclosed '['");
    host = registry.substr(1, close - 1);
    std::string rest = registry.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad("must be host or host:port");
      port = rest.substr(1);
      if (port.empty()) return bad("has an empty port");
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return bad("has an invalid IPv6 address");
    }
  } else {
    size_t colon = registry.find(':');
    if (colon != std::string::npos) {
      host = registry.substr(0, colon);
      port = registry.substr(colon + 1);
      if (port.empty()) return bad("has an empty port");
    }
    if (host.empty()) return bad("has an empty host");
    for (char c : host) {
      if (!IsHostChar(c)) return bad("must be host or host:port (no scheme, path or spaces)");
    }
  }
  if (!port.empty()) {
    int number = 0;
    if (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
      return bad("has a port outside 1..65535");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse ", origin, " at line ", error.source().begin.line, " column ",
                     error.source().begin.column, ": ", std::string(error.description())));
  }

  Config config;
  std::map<std::string, Section> schema = Schema(config, origin);
  for (const auto& [name, node] : root) {
    std::string section_name(name.str());
    auto section = schema.find(section_name);
    if (section == schema.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown section or key ", section_name, " in ", origin));
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return TypeError(section_name, origin, "a table", node);
    }
    if (absl::Status status = ApplySection(*table, section_name, section->second, origin);
        !status.ok()) {
      return status;
    }
  }
  return config;
}

absl::Status ValidateConfig(const Config& config) {
  for (const auto& [key, path] : std::vector<std::pair<std::string, std::string>>{
           {"daemon.root", config.daemon.root},
           {"daemon.state", config.daemon.state},
           {"daemon.listen", config.daemon.listen},
           {"runtime.shim_path", config.runtime.shim_path},
           {"runtime.pause_path", config.runtime.pause_path},
           {"network.conf_dir", config.network.conf_dir},
           {"image.registry_config_dir", config.image.registry_config_dir}}) {
    if (absl::Status status = CheckPath(key, path); !status.ok()) return status;
  }
  for (const std::string& dir : config.network.bin_dirs) {
    if (absl::Status status = CheckPath("network.bin_dirs", dir); !status.ok()) return status;
  }

  if (config.runtime.cgroup_driver != "cgroupfs" && config.runtime.cgroup_driver != "systemd") {
    return absl::InvalidArgumentError(absl::StrCat(
        "runtime.cgroup_driver must be \"cgroupfs\" or \"systemd\", got \"",
        config.runtime.cgroup_driver, "\""));
  }
  if (config.runtime.userns_ownership != "idmap" && config.runtime.userns_ownership != "chown") {
    return absl::InvalidArgumentError(absl::StrCat(
        "runtime.userns_ownership must be \"idmap\" or \"chown\", got \"",
        config.runtime.userns_ownership, "\""));
  }
  if (config.image.pull_progress_timeout_seconds < 1 ||
      config.image.pull_progress_timeout_seconds > 86400) {
    return absl::InvalidArgumentError(
        absl::StrCat("image.pull_progress_timeout_seconds must be in 1..86400, got ",
                     config.image.pull_progress_timeout_seconds));
  }
  if (config.image.max_concurrent_downloads < 1 || config.image.max_concurrent_downloads > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("image.max_concurrent_downloads must be in 1..64, got ",
                     config.image.max_concurrent_downloads));
  }
  if (config.network.plugin_timeout_seconds < 1 || config.network.plugin_timeout_seconds > 3600) {
    return absl::InvalidArgumentError(
        absl::StrCat("network.plugin_timeout_seconds must be in 1..3600, got ",
                     config.network.plugin_timeout_seconds));
  }

  // A unix socket path must fit sockaddr_un.sun_path (108 bytes with its NUL).
  if (config.daemon.listen.size() > kMaxSocketPath) {
    return absl::InvalidArgumentError(absl::StrCat("daemon.listen must be at most ", kMaxSocketPath,
                                                   " bytes, got \"", config.daemon.listen, "\""));
  }

  static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (std::find(kLevels.begin(), kLevels.end(), config.daemon.log_level) == kLevels.end()) {
    return absl::InvalidArgumentError(absl::StrCat("daemon.log_level must be one of ",
                                                   absl::StrJoin(kLevels, ", "), ", got \"",
                                                   absl::CEscape(config.daemon.log_level), "\""));
  }

  for (const std::string& registry : config.image.insecure_registries) {
    if (absl::Status status = CheckRegistry("image.insecure_registries", registry); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, bool must_exist) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status()) && !must_exist) return Config{};
    return text.status();
  }
  return ParseConfig(*text, path);
}

void ResolveBinaryPaths(const std::string& binary_dir, Config& config) {
  if (config.runtime.shim_path.empty()) {
    config.runtime.shim_path = JoinPath(binary_dir, "berth-shim");
  }
  if (config.runtime.pause_path.empty()) {
    config.runtime.pause_path = JoinPath(binary_dir, "berth-pause");
  }
}

}  // namespace berth::berthd
