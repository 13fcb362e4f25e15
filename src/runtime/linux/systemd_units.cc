#include "runtime/linux/systemd_units.h"

#include <atomic>
#include <functional>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/cgroups_systemd.h"

namespace berth::runtime {
namespace {

constexpr char kSliceSuffix[] = ".slice";
constexpr uint64_t kMicrosPerSecond = 1000000;
constexpr uint64_t kDefaultCpuPeriod = 100000;
// systemd keeps CPUQuota in percent of one CPU, so a quota per second has 10 ms steps.
constexpr uint64_t kQuotaStep = 10000;

// Runs `action` on a fresh connection to the system bus. A bus that cannot be reached, or has no
// systemd on it, is logged once per process and counts as success, so the caller relies on its
// cgroupfs work alone.
absl::Status WithBus(const std::string& unit,
                     const std::function<absl::Status(SystemdBus&)>& action) {
  static std::atomic<bool> warned{false};
  absl::StatusOr<std::unique_ptr<SystemdBus>> bus = SystemdBus::Connect();
  absl::Status status = bus.ok() ? action(**bus) : bus.status();
  if (!absl::IsUnavailable(status)) return status;
  if (!warned.exchange(true)) {
    Logger("systemd")->warn(
        "systemd is not reachable on the system bus; cgroups are managed through cgroupfs "
        "alone address={} unit={} error=\"{}\"",
        SystemBusAddress(), unit, status.ToString());
  }
  return absl::OkStatus();
}

uint64_t QuotaPerSecond(int64_t quota, uint64_t period) {
  if (period == 0) period = kDefaultCpuPeriod;
  uint64_t per_second = static_cast<uint64_t>(quota) * kMicrosPerSecond / period;
  return (per_second + kQuotaStep - 1) / kQuotaStep * kQuotaStep;
}

bool OnUnifiedHost() {
  absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout();
  return layout.ok() && layout->mode == CgroupMode::kV2;
}

}  // namespace

absl::StatusOr<std::optional<SystemdScope>> ScopeOfCgroupsPath(const std::string& cgroups_path) {
  if (!IsSystemdCgroupsPath(cgroups_path) || !absl::StrContains(cgroups_path, ':')) {
    return std::nullopt;
  }
  // Checks every part the way the cgroupfs translation does.
  BERTH_RETURN_IF_ERROR(SystemdCgroupsPath(cgroups_path).status());
  std::vector<std::string> parts = absl::StrSplit(cgroups_path, ':');
  const std::string& prefix = parts[1];
  const std::string& name = parts[2];
  if (absl::EndsWith(name, kSliceSuffix)) return std::nullopt;
  SystemdScope scope;
  scope.slice = parts[0].empty() ? "system.slice" : parts[0];
  scope.unit = absl::StrCat(prefix.empty() ? "" : prefix + "-", name, ".scope");
  return scope;
}

bool IsSystemdSliceName(const std::string& path) {
  return IsSystemdCgroupsPath(path) && !absl::StrContains(path, ':');
}

std::vector<SystemdProperty> SliceProperties(const std::string& slice) {
  return {{"Description", absl::StrCat("Berth pod slice ", slice)}};
}

std::vector<SystemdProperty> ScopeProperties(const SystemdScope& scope, pid_t pid,
                                             const Resources& resources, bool unified) {
  std::vector<SystemdProperty> properties = {
      {"Slice", scope.slice},
      {"Description", absl::StrCat("Berth container scope ", scope.unit)},
      {"Delegate", true},
      {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}},
  };
  const CpuResources& cpu = resources.cpu;
  if (cpu.shares.has_value() && *cpu.shares > 0) {
    if (unified) {
      properties.push_back({"CPUWeight", CpuSharesToWeight(*cpu.shares)});
    } else {
      properties.push_back({"CPUShares", *cpu.shares});
    }
  }
  if (cpu.quota.has_value() && *cpu.quota > 0) {
    properties.push_back(
        {"CPUQuotaPerSecUSec", QuotaPerSecond(*cpu.quota, cpu.period.value_or(0))});
  }
  const std::optional<int64_t>& memory = resources.memory.limit;
  if (memory.has_value() && *memory > 0) {
    properties.push_back(
        {unified ? "MemoryMax" : "MemoryLimit", static_cast<uint64_t>(*memory)});
  }
  const std::optional<int64_t>& tasks = resources.pids.limit;
  if (tasks.has_value() && *tasks > 0) {
    properties.push_back({"TasksMax", static_cast<uint64_t>(*tasks)});
  }
  return properties;
}

absl::Status StartPodSlice(const std::string& slice) {
  BERTH_RETURN_IF_ERROR(ExpandSystemdSlice(slice).status());
  return WithBus(slice, [&](SystemdBus& bus) {
    return bus.StartTransientUnit(slice, SliceProperties(slice));
  });
}

absl::Status StopPodSlice(const std::string& slice) {
  BERTH_RETURN_IF_ERROR(ExpandSystemdSlice(slice).status());
  return WithBus(slice, [&](SystemdBus& bus) { return bus.StopUnit(slice); });
}

absl::Status StartContainerScope(const std::string& cgroups_path, pid_t pid,
                                 const Resources& resources) {
  BERTH_ASSIGN_OR_RETURN(std::optional<SystemdScope> scope, ScopeOfCgroupsPath(cgroups_path));
  if (!scope.has_value()) return absl::OkStatus();
  std::vector<SystemdProperty> properties =
      ScopeProperties(*scope, pid, resources, OnUnifiedHost());
  return WithBus(scope->unit, [&](SystemdBus& bus) {
    return bus.StartTransientUnit(scope->unit, properties);
  });
}

absl::Status StopContainerScope(const std::string& cgroups_path) {
  BERTH_ASSIGN_OR_RETURN(std::optional<SystemdScope> scope, ScopeOfCgroupsPath(cgroups_path));
  if (!scope.has_value()) return absl::OkStatus();
  return WithBus(scope->unit, [&](SystemdBus& bus) { return bus.StopUnit(scope->unit); });
}

}  // namespace berth::runtime
