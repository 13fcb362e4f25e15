#include "pod/pod_cgroup.h"

#include <dirent.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/systemd_units.h"

namespace berth::pod {
namespace {

absl::StatusOr<std::vector<runtime::CgroupDir>> DirsOf(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(runtime::CgroupLayout layout, runtime::DetectCgroupLayout());
  return runtime::CgroupDirsFor(layout, path);
}

// Removes the child cgroups of `dir`, deepest first. rmdir fails, and the child stays, while the
// child has processes; RemoveCgroupDirs then reports the pod cgroup as busy.
void RemoveEmptyChildren(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return;
  std::vector<std::string> children;
  while (struct dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") children.push_back(name);
  }
  ::closedir(handle);
  for (const std::string& name : children) {
    std::string child = JoinPath(dir, name);
    RemoveEmptyChildren(child);
    ::rmdir(child.c_str());
  }
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

  // A slice that exists already was made by someone else, usually the kubelet through systemd.
  bool start_slice = false;
  if (runtime::IsSystemdSliceName(path)) {
    BERTH_ASSIGN_OR_RETURN(bool exists, PodCgroupExists(path));
    start_slice = !exists;
  }
  if (start_slice) {
    BERTH_RETURN_IF_ERROR(Annotate(runtime::StartPodSlice(path), "start pod slice " + path));
  }

  auto created = runtime::CreateCgroupDirs(layout, dirs);
  if (!created.ok()) {
    if (start_slice) (void)runtime::StopPodSlice(path);
    return Annotate(created.status(), "create pod cgroup " + path);
  }
  return absl::OkStatus();
}

absl::Status RemovePodCgroup(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::vector<runtime::CgroupDir> dirs, DirsOf(path));
  if (runtime::IsSystemdSliceName(path)) {
    BERTH_RETURN_IF_ERROR(Annotate(runtime::StopPodSlice(path), "stop pod slice " + path));
  }
  // Empty child cgroups, such as those of a container whose removal was cut short, would keep
  // the pod's cgroup busy forever. A child that still has processes makes this fail.
  for (const runtime::CgroupDir& dir : dirs) RemoveEmptyChildren(dir.path);
  return Annotate(runtime::RemoveCgroupDirs(dirs), "remove pod cgroup " + path);
}

}  // namespace berth::pod
