#include "runtime/container_state.h"

#include "absl/strings/str_cat.h"

namespace berth::runtime {

std::string StatusName(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kStopped:
      return "stopped";
    case ContainerStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

nlohmann::json StateToJson(const ContainerState& state) {
  return {{"id", state.id},
          {"status", StatusName(state.status)},
          {"pid", state.pid},
          {"exit_code", state.exit_code},
          {"signal", state.signal},
          {"created_at", state.created_at},
          {"started_at", state.started_at},
          {"finished_at", state.finished_at},
          {"oom_killed", state.oom_killed},
          {"reason", state.reason},
          {"message", state.message}};
}

absl::StatusOr<ContainerState> StateFromJson(const nlohmann::json& json) {
  ContainerState state;
  try {
    state.id = json.value("id", "");
    std::string status = json.value("status", "unknown");
    if (status == "created") {
      state.status = ContainerStatus::kCreated;
    } else if (status == "running") {
      state.status = ContainerStatus::kRunning;
    } else if (status == "stopped") {
      state.status = ContainerStatus::kStopped;
    }
    state.pid = json.value("pid", 0);
    state.exit_code = json.value("exit_code", 0);
    state.signal = json.value("signal", 0);
    state.created_at = json.value("created_at", int64_t{0});
    state.started_at = json.value("started_at", int64_t{0});
    state.finished_at = json.value("finished_at", int64_t{0});
    state.oom_killed = json.value("oom_killed", false);
    state.reason = json.value("reason", "");
    state.message = json.value("message", "");
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid container state record: ", e.what()));
  }
  return state;
}

}  // namespace berth::runtime
