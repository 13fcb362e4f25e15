// CNI network configuration: the file Berth uses from the configuration directory, parsed and
// checked. Files ending in .conflist, .conf or .json are candidates and the one whose name sorts
// lowest wins, so an operator orders networks by a numeric prefix (10-bridge.conflist).
// A .conf or .json file holds a single plugin and is treated as a list of one.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace berth::network {

// CNI specification versions whose configuration Berth accepts.
bool IsSupportedCniVersion(const std::string& version);

// One network: its name, version and plugin chain, in the order ADD runs them.
struct CniNetworkConfig {
  std::string path;         // file it came from, for messages
  std::string name;         // "name" of the network
  std::string cni_version;  // "cniVersion" of the network
  std::vector<nlohmann::json> plugins;  // each plugin object as written, with its "type"
  // Returns the "type" of plugin `index`.
  std::string Type(size_t index) const;
};

// Parses the text of a configuration file. `path` names it in errors and selects the format:
// a .conflist holds {"name", "cniVersion", "plugins": [...]}, other files hold one plugin.
// Errors are InvalidArgument: JSON syntax, a missing or empty name, a missing or unsupported
// cniVersion, no plugins, a plugin without a string "type" or with a "type" that is not a
// plain file name.
absl::StatusOr<CniNetworkConfig> ParseCniConfig(const std::string& text, const std::string& path);

// Returns the configuration candidates in `dir`, lowest name first, as full paths. A missing
// directory gives none.
std::vector<std::string> ListCniConfigFiles(const std::string& dir);

// Reads and parses the lowest-named candidate in `dir`. No candidate is NotFound, with a message
// naming the directory; a candidate that does not parse gives ParseCniConfig's error.
absl::StatusOr<CniNetworkConfig> LoadCniConfig(const std::string& dir);

}  // namespace berth::network
