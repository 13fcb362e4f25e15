// The runtime's record of one container: its status, pid, times and how it ended. The shim
// keeps it and writes it to its state directory. The client reads it from the shim or the files.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace berth::runtime {

enum class ContainerStatus {
  kCreated,  // process exists, blocked before execve
  kRunning,  // execve done, not exited yet
  kStopped,  // exited; exit_code and finished_at are set
  kUnknown,  // the shim is gone without recording an exit
};

struct ContainerState {
  std::string id;
  ContainerStatus status = ContainerStatus::kUnknown;
  int pid = 0;              // host pid of the container process; 0 once unknown
  int exit_code = 0;        // the exit status, or 128 + signal when killed by a signal
  int signal = 0;           // the killing signal, 0 when the process exited by itself
  int64_t created_at = 0;   // nanoseconds since the epoch
  int64_t started_at = 0;   // 0 until started
  int64_t finished_at = 0;  // 0 until stopped
  bool oom_killed = false;
  std::string reason;   // "Completed", "Error", "OOMKilled", "ShimGone" or empty
  std::string message;  // detail for people, e.g. why the shim is gone
};

// Status names as written in JSON: "created", "running", "stopped", "unknown".
std::string StatusName(ContainerStatus status);

nlohmann::json StateToJson(const ContainerState& state);
absl::StatusOr<ContainerState> StateFromJson(const nlohmann::json& json);

}  // namespace berth::runtime
