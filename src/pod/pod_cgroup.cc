#include "pod/pod_cgroup.h"

#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"

namespace berth::pod {
namespace {

absl::StatusOr<std::vector<runtime::CgroupDir>> DirsOf(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(runtime::CgroupLayout layout, runtime::DetectCgroupLayout());
  return runtime::CgroupDirsFor(layout, path);
}

}  // namespace

absl::StatusOr<bool> PodCgroupExists(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::vector<runtime::CgroupDir> dirs, DirsOf(path));
  for (const runtime::CgroupDir& dir : dirs) {
    if (!PathExists(dir.path)) return false;
  }
  return true;
}

absl::Status CreatePodCgroup(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(runtime::CgroupLayout layout, runtime::DetectCgroupLayout());
  BERTH_ASSIGN_OR_RETURN(std::vector<runtime::CgroupDir> dirs, runtime::CgroupDirsFor(layout, path));
  auto created = runtime::CreateCgroupDirs(layout, dirs);
  if (!created.ok()) return Annotate(created.status(), "create pod cgroup " + path);
  return absl::OkStatus();
}

absl::Status RemovePodCgroup(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::vector<runtime::CgroupDir> dirs, DirsOf(path));
  return Annotate(runtime::RemoveCgroupDirs(dirs), "remove pod cgroup " + path);
}

}  // namespace berth::pod
