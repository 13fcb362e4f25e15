#include "cmd/berthd/flags.h"

#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace berth::berthd {
namespace {

// Flags that take a value, each with the place its value goes.
std::map<std::string, std::function<void(std::string)>> ValueFlags(Flags& flags) {
  return {
      {"--config", [&flags](std::string v) { flags.config_path = std::move(v); }},
      {"--root", [&flags](std::string v) { flags.root = std::move(v); }},
      {"--state", [&flags](std::string v) { flags.state = std::move(v); }},
      {"--listen", [&flags](std::string v) { flags.listen = std::move(v); }},
      {"--log-level", [&flags](std::string v) { flags.log_level = std::move(v); }},
      {"--registry-config-dir",
       [&flags](std::string v) { flags.registry_config_dir = std::move(v); }},
      {"--cni-conf-dir", [&flags](std::string v) { flags.cni_conf_dir = std::move(v); }},
      {"--cni-bin-dir", [&flags](std::string v) { flags.cni_bin_dirs.push_back(std::move(v)); }},
  };
}

}  // namespace

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  std::map<std::string, std::function<void(std::string)>> value_flags = ValueFlags(flags);

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
      continue;
    }
    if (arg == "--version") {
      flags.version = true;
      continue;
    }
    if (arg.rfind("-", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    }

    std::string name = arg;
    std::optional<std::string> value;
    if (size_t equals = arg.find('='); equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    }
    auto flag = value_flags.find(name);
    if (flag == value_flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag ", name, " needs a value"));
      }
      value = args[++i];
    }
    flag->second(std::move(*value));
  }
  return flags;
}

void ApplyFlags(const Flags& flags, Config& config) {
  if (flags.root) config.daemon.root = *flags.root;
  if (flags.state) config.daemon.state = *flags.state;
  if (flags.listen) config.daemon.listen = *flags.listen;
  if (flags.log_level) config.daemon.log_level = *flags.log_level;
  if (flags.registry_config_dir) config.image.registry_config_dir = *flags.registry_config_dir;
  if (flags.cni_conf_dir) config.network.conf_dir = *flags.cni_conf_dir;
  if (!flags.cni_bin_dirs.empty()) config.network.bin_dirs = flags.cni_bin_dirs;
}

std::string Usage() {
  return absl::StrCat(
      "Usage: berthd [flags]\n"
      "\n"
      "Serves the Kubernetes Container Runtime Interface (runtime.v1) on a unix socket.\n"
      "\n"
      "Flags (each overrides the configuration file):\n"
      "  --config PATH       configuration file (default ",
      kDefaultConfigPath,
      ")\n"
      "  --root DIR          persistent data (default /var/lib/berth)\n"
      "  --state DIR         volatile data (default /run/berth)\n"
      "  --listen SOCKET     CRI socket path (default /run/berth/berth.sock)\n"
      "  --log-level LEVEL   trace, debug, info, warn or error (default info)\n"
      "  --registry-config-dir DIR\n"
      "                      per-registry hosts.toml folder (default /etc/berth/certs.d)\n"
      "  --cni-conf-dir DIR  CNI network configuration folder (default /etc/cni/net.d)\n"
      "  --cni-bin-dir DIR   CNI plugin folder; repeat for several, searched in order\n"
      "                      (default /opt/cni/bin, then /usr/lib/cni)\n"
      "  --version           print the version and exit\n"
      "  -h, --help          print this help and exit\n");
}

}  // namespace berth::berthd
