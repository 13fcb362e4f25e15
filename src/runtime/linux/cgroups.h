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

// One write of a resource file: `value` into `path`.
struct CgroupWrite {
  std::string path;
  std::string value;
};

// Parses mountinfo text into the cgroup layout. Each hierarchy is listed once (the first mount of
// its super block). No cgroup mount at all is FailedPrecondition.
absl::StatusOr<CgroupLayout> ParseCgroupLayout(const std::string& mountinfo);

// Reads /proc/self/mountinfo and parses it.
absl::StatusOr<CgroupLayout> DetectCgroupLayout();

// Returns the container's directory in every hierarchy for `cgroups_path` (absolute within each
// hierarchy, e.g. "/berth/pod1/ctr1"). An empty path or one with ".." is InvalidArgument.
absl::StatusOr<std::vector<CgroupDir>> CgroupDirsFor(const CgroupLayout& layout,
                                                     const std::string& cgroups_path);

// Returns the files to write for `resources` and `devices`, in order. On v1 and hybrid the limits
// go to the v1 controllers. The devices controller denies everything, then allows the given
// devices, /dev/ptmx and /dev/pts/*. On v2 the limits go to the unified files (cpu.weight from
// shares, cpu.max, memory.max, pids.max).
// NOTE: devices are not restricted on v2, because that needs an eBPF program.
std::vector<CgroupWrite> PlanResourceWrites(const CgroupLayout& layout,
                                            const std::vector<CgroupDir>& dirs,
                                            const Resources& resources,
                                            const std::vector<Device>& devices);

// Creates every directory (and missing parents), preparing parents the way each version needs:
// v1 cpuset copies cpuset.cpus and cpuset.mems down, v2 enables cpu, memory and pids in
// cgroup.subtree_control. Returns the directories it created itself, deepest last.
absl::StatusOr<std::vector<std::string>> CreateCgroupDirs(const CgroupLayout& layout,
                                                          const std::vector<CgroupDir>& dirs);

// Writes each planned value; the error names the file and the value.
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
