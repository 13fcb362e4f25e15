// berthd's command line. Flags override the configuration file:
//   berthd [--config PATH] [--root DIR] [--state DIR] [--listen SOCKET] [--log-level LEVEL]
//          [--cni-conf-dir DIR] [--cni-bin-dir DIR]...
// Each flag takes its value as "--flag value" or "--flag=value".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/berthd/config.h"

namespace berth::berthd {

struct Flags {
  // --config: configuration file; empty means kDefaultConfigPath, which may be missing.
  std::string config_path;
  // --root, --state, --listen, --log-level: override the [daemon] keys of the same name.
  std::optional<std::string> root;
  std::optional<std::string> state;
  std::optional<std::string> listen;
  std::optional<std::string> log_level;
  // --registry-config-dir: overrides image.registry_config_dir.
  std::optional<std::string> registry_config_dir;
  // --cni-conf-dir: overrides network.conf_dir.
  std::optional<std::string> cni_conf_dir;
  // --cni-bin-dir, repeatable: when given, these folders, in order, replace network.bin_dirs.
  std::vector<std::string> cni_bin_dirs;
  // --help / -h and --version: print and exit.
  bool help = false;
  bool version = false;
};

// Parses the arguments after the program name. An unknown flag, a positional argument or a
// flag without its value is InvalidArgument naming it.
absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args);

// Writes the flags that were given over `config`.
void ApplyFlags(const Flags& flags, Config& config);

// The --help text.
std::string Usage();

}  // namespace berth::berthd
