// The plan of cgroup file writes for a container's resources, on v1 and v2.
#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"

namespace berth::runtime {
namespace {

bool HasController(const CgroupDir& dir, const std::string& controller) {
  return std::find(dir.controllers.begin(), dir.controllers.end(), controller) !=
         dir.controllers.end();
}

bool AnyV1Has(const std::vector<CgroupDir>& dirs, const std::string& controller) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const CgroupDir& dir) {
    return !dir.unified && HasController(dir, controller);
  });
}

std::string MaxOr(int64_t value) { return value > 0 ? absl::StrCat(value) : "max"; }

void Add(std::vector<CgroupWrite>* writes, const CgroupDir& dir, const std::string& file,
         const std::string& value, bool may_fail = false) {
  writes->push_back({JoinPath(dir.path, file), value, may_fail});
}

void PlanV1Memory(const CgroupDir& dir, const MemoryResources& memory,
                  std::vector<CgroupWrite>* writes) {
  // Swap is limited only where the kernel accounts it (memsw files exist).
  bool swap = memory.swap && PathExists(JoinPath(dir.path, "memory.memsw.limit_in_bytes"));
  // The kernel keeps memsw >= limit at every step. Writing memsw before and after the limit
  // works whether both grow (the first write succeeds) or both shrink (the first one fails).
  if (swap) Add(writes, dir, "memory.memsw.limit_in_bytes", absl::StrCat(*memory.swap), true);
  if (memory.limit) Add(writes, dir, "memory.limit_in_bytes", absl::StrCat(*memory.limit));
  if (swap) Add(writes, dir, "memory.memsw.limit_in_bytes", absl::StrCat(*memory.swap));
}

void PlanHugetlb(const CgroupDir& dir, const std::vector<HugepageLimit>& limits, bool v2,
                 std::vector<CgroupWrite>* writes) {
  for (const HugepageLimit& limit : limits) {
    std::string file = absl::StrCat("hugetlb.", limit.page_size, v2 ? ".max" : ".limit_in_bytes");
    Add(writes, dir, file, absl::StrCat(limit.limit));
  }
}

void PlanDevices(const CgroupDir& dir, const std::vector<Device>& devices,
                 std::vector<CgroupWrite>* writes) {
  Add(writes, dir, "devices.deny", "a");
  std::vector<std::string> allow = {"c *:* m", "b *:* m", "c 5:2 rwm", "c 136:* rwm"};
  for (const Device& device : devices) {
    if (device.type != "c" && device.type != "b") continue;
    allow.push_back(absl::StrCat(device.type, " ", device.major, ":", device.minor, " rwm"));
  }
  for (const std::string& rule : allow) Add(writes, dir, "devices.allow", rule);
}

void PlanV1(const std::vector<CgroupDir>& dirs, const Resources& resources,
            const std::vector<Device>* devices, std::vector<CgroupWrite>* writes) {
  for (const CgroupDir& dir : dirs) {
    if (dir.unified) continue;
    if (HasController(dir, "cpu")) {
      const CpuResources& cpu = resources.cpu;
      if (cpu.shares) Add(writes, dir, "cpu.shares", absl::StrCat(*cpu.shares));
      // The kernel checks the quota against the current period, so the period goes first.
      if (cpu.period) Add(writes, dir, "cpu.cfs_period_us", absl::StrCat(*cpu.period));
      if (cpu.quota) Add(writes, dir, "cpu.cfs_quota_us", absl::StrCat(*cpu.quota));
    }
    if (HasController(dir, "cpuset")) {
      if (!resources.cpu.cpus.empty()) Add(writes, dir, "cpuset.cpus", resources.cpu.cpus);
      if (!resources.cpu.mems.empty()) Add(writes, dir, "cpuset.mems", resources.cpu.mems);
    }
    if (HasController(dir, "memory")) PlanV1Memory(dir, resources.memory, writes);
    if (HasController(dir, "hugetlb")) PlanHugetlb(dir, resources.hugepage_limits, false, writes);
    if (HasController(dir, "pids") && resources.pids.limit) {
      Add(writes, dir, "pids.max", MaxOr(*resources.pids.limit));
    }
    if (devices != nullptr && HasController(dir, "devices")) PlanDevices(dir, *devices, writes);
  }
}

void PlanV2Dir(const CgroupDir& dir, const Resources& resources,
               std::vector<CgroupWrite>* writes) {
  const MemoryResources& memory = resources.memory;
  if (memory.limit) Add(writes, dir, "memory.max", MaxOr(*memory.limit));
  if (memory.swap) {
    // OCI counts memory plus swap, v2 counts swap alone.
    std::string swap = "max";
    if (*memory.swap > 0 && memory.limit && *memory.limit > 0) {
      swap = absl::StrCat(std::max<int64_t>(0, *memory.swap - *memory.limit));
    }
    Add(writes, dir, "memory.swap.max", swap);
  }
  const CpuResources& cpu = resources.cpu;
  if (cpu.shares) Add(writes, dir, "cpu.weight", absl::StrCat(CpuSharesToWeight(*cpu.shares)));
  if (cpu.quota || cpu.period) {
    Add(writes, dir, "cpu.max",
        absl::StrCat(MaxOr(cpu.quota.value_or(-1)), " ", cpu.period.value_or(100000)));
  }
  if (!cpu.cpus.empty()) Add(writes, dir, "cpuset.cpus", cpu.cpus);
  if (!cpu.mems.empty()) Add(writes, dir, "cpuset.mems", cpu.mems);
  PlanHugetlb(dir, resources.hugepage_limits, true, writes);
  if (resources.pids.limit) Add(writes, dir, "pids.max", MaxOr(*resources.pids.limit));
  for (const auto& [key, value] : resources.unified) Add(writes, dir, key, value);
}

std::vector<CgroupWrite> Plan(const CgroupLayout& layout, const std::vector<CgroupDir>& dirs,
                              const Resources& resources, const std::vector<Device>* devices) {
  std::vector<CgroupWrite> writes;
  if (layout.mode == CgroupMode::kV2) {
    for (const CgroupDir& dir : dirs) {
      if (dir.unified) PlanV2Dir(dir, resources, &writes);
    }
    return writes;
  }
  PlanV1(dirs, resources, devices, &writes);
  if (layout.mode == CgroupMode::kHybrid) {
    // The cgroup2 side of a hybrid host gets what no v1 hierarchy can take: hugetlb when it
    // lives there, and unified keys.
    Resources rest;
    if (!AnyV1Has(dirs, "hugetlb")) rest.hugepage_limits = resources.hugepage_limits;
    rest.unified = resources.unified;
    for (const CgroupDir& dir : dirs) {
      if (dir.unified) PlanV2Dir(dir, rest, &writes);
    }
  }
  return writes;
}

// "2MB", "64KB", "1GB": digits then a unit, as in the kernel's hugetlb file names.
bool ValidPageSize(const std::string& size) {
  size_t digits = 0;
  while (digits < size.size() && std::isdigit(static_cast<unsigned char>(size[digits]))) ++digits;
  std::string unit = size.substr(digits);
  return digits > 0 && (unit == "KB" || unit == "MB" || unit == "GB");
}

// "0-3,5,7-8" with no spaces.
bool ValidCpuList(const std::string& list) {
  for (absl::string_view range : absl::StrSplit(list, ',')) {
    std::vector<absl::string_view> ends = absl::StrSplit(range, '-');
    if (ends.size() > 2) return false;
    for (absl::string_view end : ends) {
      uint32_t number = 0;
      if (end.empty() || !std::all_of(end.begin(), end.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
          }) || !absl::SimpleAtoi(end, &number)) {
        return false;
      }
    }
  }
  return true;
}

absl::Status CheckUnifiedKey(const std::string& key, const std::string& value) {
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrCat("linux.resources.unified key \"", key, "\" ", why));
  };
  if (key.empty() || key.find('/') != std::string::npos || key.find('\0') != std::string::npos ||
      key == "." || key == "..") {
    return bad("must be a file name of the cgroup directory");
  }
  std::vector<std::string> parts = absl::StrSplit(key, absl::MaxSplits('.', 1));
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return bad("must name a controller file such as \"memory.high\"");
  }
  // cgroup.procs, cgroup.subtree_control and the like move processes or change the tree.
  if (parts[0] == "cgroup") return bad("names a cgroup core file, which Berth does not let change");
  if (value.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
    return bad("has a value with a line break or NUL");
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t CpuSharesToWeight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

std::vector<CgroupWrite> PlanResourceWrites(const CgroupLayout& layout,
                                            const std::vector<CgroupDir>& dirs,
                                            const Resources& resources,
                                            const std::vector<Device>& devices) {
  return Plan(layout, dirs, resources, &devices);
}

std::vector<CgroupWrite> PlanResourceUpdate(const CgroupLayout& layout,
                                            const std::vector<CgroupDir>& dirs,
                                            const Resources& resources) {
  return Plan(layout, dirs, resources, nullptr);
}

absl::Status ValidateResources(const Resources& resources) {
  for (const HugepageLimit& limit : resources.hugepage_limits) {
    if (!ValidPageSize(limit.page_size)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linux.resources.hugepageLimits: page size \"", limit.page_size,
          "\" must look like \"2MB\" or \"1GB\""));
    }
  }
  for (const auto& [name, list] : {std::pair{"cpus", &resources.cpu.cpus},
                                   std::pair{"mems", &resources.cpu.mems}}) {
    if (!list->empty() && !ValidCpuList(*list)) {
      return absl::InvalidArgumentError(absl::StrCat("linux.resources.cpu.", name, " \"", *list,
                                                     "\" is not a list such as \"0-3,5\""));
    }
  }
  for (const auto& [key, value] : resources.unified) {
    BERTH_RETURN_IF_ERROR(CheckUnifiedKey(key, value));
  }
  return absl::OkStatus();
}

absl::Status ValidateResourcesFor(const CgroupLayout& layout, const Resources& resources) {
  BERTH_RETURN_IF_ERROR(ValidateResources(resources));
  if (!resources.unified.empty() && layout.mode == CgroupMode::kV1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "linux.resources.unified needs cgroup v2, which this host does not mount (key \"",
        resources.unified.begin()->first, "\")"));
  }
  return absl::OkStatus();
}

}  // namespace berth::runtime
