#include "pod/resources_spec.h"

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"

namespace berth::pod {
namespace {

constexpr int64_t kMinMemoryLimit = 4 << 20;

absl::Status Invalid(const char* field, int64_t value, const std::string& rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("resources.", field, " ", value, " is invalid: ", rule));
}

}  // namespace

runtime::Resources ResourcesFromCri(const ::runtime::v1::LinuxContainerResources& resources) {
  runtime::Resources out;
  if (resources.memory_limit_in_bytes() > 0) out.memory.limit = resources.memory_limit_in_bytes();
  if (resources.memory_swap_limit_in_bytes() != 0) {
    out.memory.swap = resources.memory_swap_limit_in_bytes();
  }
  if (resources.cpu_shares() > 0) out.cpu.shares = static_cast<uint64_t>(resources.cpu_shares());
  if (resources.cpu_quota() != 0) out.cpu.quota = resources.cpu_quota();
  if (resources.cpu_period() > 0) out.cpu.period = static_cast<uint64_t>(resources.cpu_period());
  out.cpu.cpus = resources.cpuset_cpus();
  out.cpu.mems = resources.cpuset_mems();
  for (const auto& limit : resources.hugepage_limits()) {
    out.hugepage_limits.push_back({limit.page_size(), limit.limit()});
  }
  out.unified.insert(resources.unified().begin(), resources.unified().end());
  return out;
}

std::optional<int> OomScoreAdjFromCri(const ::runtime::v1::LinuxContainerResources& resources) {
  if (resources.oom_score_adj() == 0) return std::nullopt;
  return static_cast<int>(resources.oom_score_adj());
}

absl::Status ValidateCriResources(const ::runtime::v1::LinuxContainerResources& resources) {
  if (resources.cpu_shares() < 0) return Invalid("cpu_shares", resources.cpu_shares(), "negative");
  if (resources.cpu_period() < 0) return Invalid("cpu_period", resources.cpu_period(), "negative");
  if (resources.cpu_quota() < -1) {
    return Invalid("cpu_quota", resources.cpu_quota(), "below -1 (no limit)");
  }
  int64_t memory = resources.memory_limit_in_bytes();
  if (memory < 0) return Invalid("memory_limit_in_bytes", memory, "negative");
  if (memory > 0 && memory < kMinMemoryLimit) {
    return Invalid("memory_limit_in_bytes", memory, "below the minimum of 4194304 bytes");
  }
  int64_t swap = resources.memory_swap_limit_in_bytes();
  if (swap < -1) return Invalid("memory_swap_limit_in_bytes", swap, "below -1 (no limit)");
  if (swap > 0 && memory > 0 && swap < memory) {
    return Invalid("memory_swap_limit_in_bytes", swap,
                   absl::StrCat("below memory_limit_in_bytes ", memory,
                                ", but it counts memory plus swap"));
  }
  int64_t oom = resources.oom_score_adj();
  if (oom < -1000 || oom > 1000) return Invalid("oom_score_adj", oom, "outside [-1000, 1000]");
  return runtime::ValidateResources(ResourcesFromCri(resources));
}

}  // namespace berth::pod
