// Container cgroups on cgroup v1, v2 (unified) and the hybrid of both: where a cgroupsPath lives
// in each mounted hierarchy, creating and joining it, applying resources, and removing it.
//
// On v1 a container gets a directory in every mounted hierarchy (cpu, memory, pids, name=systemd,
// ...). On v2 it gets one directory in the unified hierarchy. On a hybrid host it gets both: the
// v1 directories, which carry the resource limits, and one in the cgroup2 mount.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/spec.h"

namespace berth::runtime {

enum class CgroupMode { kV1, kV2, kHybrid };

// One mounted cgroup hierarchy, as /proc/self/mountinfo lists it.
struct CgroupHierarchy {
  std::string mount_point;               // e.g. /sys/fs/cgroup/memory
  std::string root;                      // the hierarchy path shown at the mount point, usually "/"
  std::vector<std::string> controllers;  // v1: "memory", "name=systemd", ...; v2: empty
  bool unified = false;                  // cgroup2
};

struct CgroupLayout {
  CgroupMode mode = CgroupMode::kV1;
  std::vector<CgroupHierarchy> hierarchies;
};

// A container's directory in one hierarchy.
struct CgroupDir {
  std::string path;                      // host path, e.g. /sys/fs/cgroup/memory/berth/pod/ctr
  std::string name;                      // base name of the mount point ("memory", "unified")
  std::vector<std::string> controllers;  // controllers of the hierarchy
  bool unified = false;
};

// One write of a resource file: `value` into `path`. `may_fail` marks a write that is repeated
// later in the plan and only has to succeed when the order of two limits matters (memory and
// memory+swap, whose kernel rule is memsw >= limit at every moment).
struct CgroupWrite {
  std::string path;
  std::string value;
  bool may_fail = false;
};

// Parses mountinfo text into the cgroup layout. Each hierarchy is listed once (the first mount of
// its super block). No cgroup mount at all is FailedPrecondition.
absl::StatusOr<CgroupLayout> ParseCgroupLayout(const std::string& mountinfo);

// Reads /proc/self/mountinfo and parses it.
absl::StatusOr<CgroupLayout> DetectCgroupLayout();

// Returns the container's directory in every hierarchy for `cgroups_path` (absolute within each
// hierarchy, e.g. "/berth/pod1/ctr1", or in the systemd notation of cgroups_systemd.h, e.g.
// "kubepods.slice:berth:ctr1"). An empty path or one with ".." is InvalidArgument.
absl::StatusOr<std::vector<CgroupDir>> CgroupDirsFor(const CgroupLayout& layout,
                                                     const std::string& cgroups_path);

// Returns the files to write for `resources` and `devices`, in order. On v1 and hybrid the limits
// go to the v1 controllers: cpu.shares, cpu.cfs_period_us then cpu.cfs_quota_us, cpuset.cpus and
// cpuset.mems, memory.limit_in_bytes with memory.memsw.limit_in_bytes when the kernel accounts
// swap, hugetlb.<size>.limit_in_bytes, pids.max. The devices controller denies everything, then
// allows the given devices, /dev/ptmx and /dev/pts/*. On v2 the limits go to the unified files
// (cpu.weight converted from shares as the kubelet does, cpu.max, cpuset.cpus, cpuset.mems,
// memory.max, memory.swap.max, hugetlb.<size>.max, pids.max), then the `unified` keys as given.
// On a hybrid host whose cgroup2 mount carries hugetlb (and no v1 hierarchy does), hugepage
// limits and `unified` keys go to the cgroup2 directory.
// NOTE: devices are not restricted on v2, because that needs an eBPF program.
std::vector<CgroupWrite> PlanResourceWrites(const CgroupLayout& layout,
                                            const std::vector<CgroupDir>& dirs,
                                            const Resources& resources,
                                            const std::vector<Device>& devices);

// The writes that change the limits of a running container: PlanResourceWrites without the
// device rules, which stay as they were set at creation.
std::vector<CgroupWrite> PlanResourceUpdate(const CgroupLayout& layout,
                                            const std::vector<CgroupDir>& dirs,
                                            const Resources& resources);

// Checks values that become file names or file contents without touching the system: hugepage
// sizes ("2MB", "1GB"), cpuset lists ("0-3,5"), and unified keys, which must name a plain
// controller file ("memory.high"), never a path, a cgroup.* core file, or a value with a line
// break. A unified key on a host without cgroup v2 is InvalidArgument too (checked by
// PlanResourceWrites callers through ValidateResourcesFor).
absl::Status ValidateResources(const Resources& resources);

// ValidateResources, plus the checks that depend on the host's layout: `unified` needs a cgroup2
// hierarchy.
absl::Status ValidateResourcesFor(const CgroupLayout& layout, const Resources& resources);

// Converts v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000) with the kubelet's linear
// formula, so both ends map onto each other.
uint64_t CpuSharesToWeight(uint64_t shares);

// Creates every directory (and missing parents), preparing parents the way each version needs:
// v1 cpuset copies cpuset.cpus and cpuset.mems down, and every cgroup2 parent (of a v2 or a
// hybrid host) enables cpu, cpuset, memory, pids and hugetlb in cgroup.subtree_control, as far
// as it has them. Returns the directories it created itself, deepest last.
absl::StatusOr<std::vector<std::string>> CreateCgroupDirs(const CgroupLayout& layout,
                                                          const std::vector<CgroupDir>& dirs);

// Writes each planned value; the error names the file and the value. A write marked
// `may_fail` that fails is skipped (see CgroupWrite).
absl::Status ApplyCgroupWrites(const std::vector<CgroupWrite>& writes);

// Moves process `pid` into every directory.
absl::Status JoinCgroupDirs(const std::vector<CgroupDir>& dirs, pid_t pid);

// Removes the directories (only the leaves given, not their parents). A missing directory is
// success. Busy directories (processes that just died may still count) are retried until
// `busy_wait` has passed in total, then the error is Unavailable naming the directory.
absl::Status RemoveCgroupDirs(const std::vector<CgroupDir>& dirs,
                              absl::Duration busy_wait = absl::Seconds(2));

// Returns the pids listed in the cgroup.procs of the first directory.
absl::StatusOr<std::vector<pid_t>> CgroupPids(const std::vector<CgroupDir>& dirs);

// Returns how many processes the OOM killer killed in the container's memory cgroup
// (oom_kill in memory.oom_control on v1, memory.events on v2); 0 when unknown.
int64_t CgroupOomKills(const std::vector<CgroupDir>& dirs);

}  // namespace berth::runtime
