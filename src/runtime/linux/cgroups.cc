#include "runtime/linux/cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status.h"
#include "runtime/linux/cgroups_systemd.h"

namespace berth::runtime {
namespace {

const std::set<std::string>& KnownV1Controllers() {
  static const std::set<std::string> controllers = {
      "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
      "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};
  return controllers;
}

// Mountinfo escapes space, tab, newline and backslash in paths as \ooo octal.
std::string Unescape(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Parent(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

bool HasController(const CgroupDir& dir, const std::string& controller) {
  return std::find(dir.controllers.begin(), dir.controllers.end(), controller) !=
         dir.controllers.end();
}

// A new v1 cpuset cgroup starts with empty cpus and mems and accepts no process until both are
// set, so each level we create copies them from its parent.
absl::Status InitCpuset(const std::string& dir) {
  for (const char* name : {"cpuset.cpus", "cpuset.mems"}) {
    BERTH_ASSIGN_OR_RETURN(std::string current, ReadFile(JoinPath(dir, name)));
    if (!absl::StripAsciiWhitespace(current).empty()) continue;
    BERTH_ASSIGN_OR_RETURN(std::string inherited, ReadFile(JoinPath(Parent(dir), name)));
    BERTH_RETURN_IF_ERROR(WriteFile(JoinPath(dir, name), inherited));
  }
  return absl::OkStatus();
}

// Enables the controllers Berth sets (cpu, cpuset, memory, pids, hugetlb) for the children of
// `dir`, as far as `dir` has them. On a hybrid host that is whatever the cgroup2 mount carries.
void EnableV2Controllers(const std::string& dir) {
  absl::StatusOr<std::string> available = ReadFile(JoinPath(dir, "cgroup.controllers"));
  if (!available.ok()) return;
  std::vector<std::string> have =
      absl::StrSplit(absl::StripAsciiWhitespace(*available), ' ', absl::SkipEmpty());
  for (const char* controller : {"cpu", "cpuset", "memory", "pids", "hugetlb"}) {
    if (std::find(have.begin(), have.end(), controller) == have.end()) continue;
    absl::Status status =
        WriteFile(JoinPath(dir, "cgroup.subtree_control"), absl::StrCat("+", controller));
    if (!status.ok()) {
      Logger("runtime")->warn("cannot enable cgroup controller controller={} dir={} error=\"{}\"",
                              controller, dir, status.ToString());
    }
  }
}

}  // namespace

absl::StatusOr<CgroupLayout> ParseCgroupLayout(const std::string& mountinfo) {
  CgroupLayout layout;
  std::set<std::string> devices_seen;
  bool v1 = false;
  bool v2 = false;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 7 || dash == fields.end() || fields.end() - dash < 4) continue;
    std::string fstype(dash[1]);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    if (!devices_seen.insert(std::string(fields[2])).second) continue;

    CgroupHierarchy hierarchy;
    hierarchy.root = Unescape(fields[3]);
    hierarchy.mount_point = Unescape(fields[4]);
    hierarchy.unified = fstype == "cgroup2";
    if (!hierarchy.unified) {
      for (absl::string_view option : absl::StrSplit(dash[3], ',')) {
        std::string name(option);
        if (KnownV1Controllers().contains(name) || name.rfind("name=", 0) == 0) {
          hierarchy.controllers.push_back(name);
        }
      }
      if (hierarchy.controllers.empty()) continue;
      v1 = true;
    } else {
      v2 = true;
    }
    layout.hierarchies.push_back(std::move(hierarchy));
  }
  if (!v1 && !v2) return absl::FailedPreconditionError("no cgroup file system is mounted");
  layout.mode = v1 && v2 ? CgroupMode::kHybrid : (v2 ? CgroupMode::kV2 : CgroupMode::kV1);
  return layout;
}

absl::StatusOr<CgroupLayout> DetectCgroupLayout() {
  BERTH_ASSIGN_OR_RETURN(std::string mountinfo, ReadFile("/proc/self/mountinfo"));
  return ParseCgroupLayout(mountinfo);
}

absl::StatusOr<std::vector<CgroupDir>> CgroupDirsFor(const CgroupLayout& layout,
                                                     const std::string& requested_path) {
  BERTH_ASSIGN_OR_RETURN(std::string cgroups_path, CgroupfsPath(requested_path));
  std::vector<std::string> parts = absl::StrSplit(cgroups_path, '/', absl::SkipEmpty());
  if (parts.empty()) return absl::InvalidArgumentError("cgroupsPath is empty");
  for (const std::string& part : parts) {
    if (part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat("invalid cgroupsPath \"", cgroups_path, "\""));
    }
  }
  std::string path = "/" + absl::StrJoin(parts, "/");

  std::vector<CgroupDir> dirs;
  for (const CgroupHierarchy& hierarchy : layout.hierarchies) {
    // A hierarchy mounted from a sub-cgroup shows paths below its root at the mount point.
    std::string relative = path;
    if (hierarchy.root != "/" && relative.rfind(hierarchy.root + "/", 0) == 0) {
      relative = relative.substr(hierarchy.root.size());
    }
    CgroupDir dir;
    dir.path = JoinPath(hierarchy.mount_point, relative);
    dir.name = BaseName(hierarchy.mount_point);
    dir.controllers = hierarchy.controllers;
    dir.unified = hierarchy.unified;
    dirs.push_back(std::move(dir));
  }
  return dirs;
}

absl::StatusOr<std::vector<std::string>> CreateCgroupDirs(const CgroupLayout& /*layout*/,
                                                          const std::vector<CgroupDir>& dirs) {
  std::vector<std::string> created;
  for (const CgroupDir& dir : dirs) {
    // Walk down from the mount point so every level we create gets prepared before its child.
    std::vector<std::string> missing;
    for (std::string level = dir.path; !PathExists(level); level = Parent(level)) {
      missing.push_back(level);
      if (level == "/") break;
    }
    std::reverse(missing.begin(), missing.end());
    for (const std::string& level : missing) {
      if (dir.unified) EnableV2Controllers(Parent(level));
      if (::mkdir(level.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(errno, "mkdir", level);
      }
      created.push_back(level);
      if (HasController(dir, "cpuset")) {
        BERTH_RETURN_IF_ERROR(Annotate(InitCpuset(level), "prepare cpuset cgroup"));
      }
    }
  }
  return created;
}

absl::Status ApplyCgroupWrites(const std::vector<CgroupWrite>& writes) {
  for (const CgroupWrite& write : writes) {
    absl::Status status = WriteFile(write.path, write.value);
    if (!status.ok() && write.may_fail) continue;
    if (!status.ok()) return Annotate(status, absl::StrCat("set \"", write.value, "\""));
  }
  return absl::OkStatus();
}

absl::Status JoinCgroupDirs(const std::vector<CgroupDir>& dirs, pid_t pid) {
  for (const CgroupDir& dir : dirs) {
    BERTH_RETURN_IF_ERROR(WriteFile(JoinPath(dir.path, "cgroup.procs"), absl::StrCat(pid)));
  }
  return absl::OkStatus();
}

absl::Status RemoveCgroupDirs(const std::vector<CgroupDir>& dirs, absl::Duration busy_wait) {
  absl::Status result;
  absl::Time deadline = absl::Now() + busy_wait;
  for (const CgroupDir& dir : dirs) {
    int err = 0;
    while (true) {
      if (::rmdir(dir.path.c_str()) == 0 || errno == ENOENT) {
        err = 0;
        break;
      }
      err = errno;
      if (err != EBUSY || absl::Now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (err != 0 && result.ok()) result = ErrnoError(err, "rmdir", dir.path);
  }
  return result;
}

absl::StatusOr<std::vector<pid_t>> CgroupPids(const std::vector<CgroupDir>& dirs) {
  std::vector<pid_t> pids;
  if (dirs.empty()) return pids;
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(dirs[0].path, "cgroup.procs")));
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

int64_t CgroupOomKills(const std::vector<CgroupDir>& dirs) {
  for (const CgroupDir& dir : dirs) {
    const char* file = nullptr;
    if (dir.unified && dirs.size() == 1) {
      file = "memory.events";
    } else if (HasController(dir, "memory")) {
      file = "memory.oom_control";
    }
    if (file == nullptr) continue;
    absl::StatusOr<std::string> text = ReadFile(JoinPath(dir.path, file));
    if (!text.ok()) return 0;
    for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      if (!absl::ConsumePrefix(&line, "oom_kill ")) continue;
      int64_t count = 0;
      if (absl::SimpleAtoi(line, &count)) return count;
    }
    return 0;
  }
  return 0;
}

}  // namespace berth::runtime
