// berthd: the Berth container runtime daemon. Wiring only: flags, configuration, logging, the
// Daemon, and the wait for SIGTERM or SIGINT.
#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status.h"
#include "cmd/berthd/config.h"
#include "cmd/berthd/daemon.h"
#include "cmd/berthd/flags.h"
#include "cmd/berthd/signals.h"
#include "cri/runtime_info.h"

namespace {

// Time calls in flight get to finish after a termination signal.
constexpr std::chrono::seconds kShutdownGrace(5);

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "berthd: %s\n", std::string(status.message()).c_str());
  return 1;
}

// The folder holding the running binary, where berth-shim and berth-pause are by default.
std::string BinaryDir() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return "/usr/local/bin";
  std::string path(buffer, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace berth::berthd;

  if (absl::Status status = BlockTerminationSignals(); !status.ok()) return Fail(status);

  absl::StatusOr<Flags> flags = ParseFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) {
    std::fprintf(stderr, "berthd: %s\n\n%s", std::string(flags.status().message()).c_str(),
                 Usage().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::printf("berthd %s\n", berth::cri::BerthVersion());
    return 0;
  }

  bool explicit_config = !flags->config_path.empty();
  absl::StatusOr<Config> config =
      LoadConfigFile(explicit_config ? flags->config_path : kDefaultConfigPath, explicit_config);
  if (!config.ok()) return Fail(config.status());
  ApplyFlags(*flags, *config);
  ResolveBinaryPaths(BinaryDir(), *config);
  if (absl::Status status = ValidateConfig(*config); !status.ok()) {
    // The value may come from a flag or from the file, so the message names both sources. A flag
    // that sets a daemon.* key is named after the key's last part (--root sets daemon.root).
    return Fail(berth::Annotate(
        status, absl::StrCat("invalid configuration (flags and ",
                             explicit_config ? flags->config_path : kDefaultConfigPath, ")")));
  }
  if (absl::Status status = berth::InitLogging(config->daemon.log_level); !status.ok()) {
    return Fail(status);
  }

  Daemon daemon(*std::move(config));
  if (absl::Status status = daemon.Start(); !status.ok()) return Fail(status);

  int signal = WaitForTerminationSignal();
  berth::Logger("berthd")->info("received signal={}", signal);
  daemon.Shutdown(kShutdownGrace);
  return 0;
}
