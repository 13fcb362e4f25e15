// Logging setup. Each module logs through its own named spdlog logger, with key=value fields
// and the ids of the objects involved on every line, e.g.
//   Logger("pod")->info("sandbox started pod={} pid={}", id, pid);
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"

namespace berth {

// Sets the level of every logger ("trace", "debug", "info", "warn", "error") and the output
// format. Logs go to stderr. An unknown level is InvalidArgument.
absl::Status InitLogging(const std::string& level);

// Returns the logger of a module, creating it on first use.
std::shared_ptr<spdlog::logger> Logger(const std::string& module);

}  // namespace berth
