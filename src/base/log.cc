#include "base/log.h"

#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>

#include "absl/strings/str_cat.h"

namespace berth {
namespace {

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%fZ %l %n %v";

std::mutex& LoggerMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

absl::Status InitLogging(const std::string& level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid log level \"", level, "\": use trace, debug, info, warn or error"));
  }
  spdlog::set_pattern(kPattern, spdlog::pattern_time_type::utc);
  spdlog::set_level(parsed);
  return absl::OkStatus();
}

std::shared_ptr<spdlog::logger> Logger(const std::string& module) {
  std::lock_guard<std::mutex> lock(LoggerMutex());
  if (auto existing = spdlog::get(module)) return existing;
  auto logger = spdlog::stderr_logger_mt(module);
  logger->set_pattern(kPattern, spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::get_level());
  return logger;
}

}  // namespace berth
