// PodManager: changing a container's resources, and finding the target of the TARGET pid mode.
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status.h"
#include "pod/pod_manager.h"
#include "pod/resources_spec.h"
#include "runtime/linux/cgroups_update.h"

namespace berth::pod {

absl::Status PodManager::UpdateContainerResources(
    const std::string& id_or_prefix, const ::runtime::v1::LinuxContainerResources& resources) {
  BERTH_ASSIGN_OR_RETURN(std::string id, ResolveContainerId(id_or_prefix));
  BERTH_ASSIGN_OR_RETURN(ContainerRecord record, FindContainerRecord(id));
  BERTH_ASSIGN_OR_RETURN(runtime::ContainerState state, runtime_->State(id));
  if (state.status != runtime::ContainerStatus::kCreated &&
      state.status != runtime::ContainerStatus::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat(
        "container ", id, " is ", runtime::StatusName(state.status), ", not created or running"));
  }

  std::string spec_path = JoinPath(record.dir, "config.json");
  BERTH_ASSIGN_OR_RETURN(runtime::Spec spec, runtime::ReadSpecFile(spec_path));
  runtime::Resources updated = ResourcesFromCri(resources);
  BERTH_RETURN_IF_ERROR(runtime::UpdateContainerCgroup(spec, id, updated));

  // The cgroup has the new values; the spec and the record follow, so a restarted berthd and
  // ContainerStatus see them too.
  spec.linux.resources = updated;
  BERTH_RETURN_IF_ERROR(runtime::WriteSpecFile(spec_path, spec));
  *record.config.mutable_linux()->mutable_resources() = resources;
  BERTH_RETURN_IF_ERROR(SaveContainer(record));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (containers_.contains(id)) containers_[id] = record;
  }
  Logger("pod")->info("container resources updated container={} memory={} cpu_quota={}", id,
                      resources.memory_limit_in_bytes(), resources.cpu_quota());
  return absl::OkStatus();
}

absl::StatusOr<std::string> PodManager::TargetPidNamespace(const std::string& sandbox_id,
                                                           const std::string& target_id) {
  if (target_id.empty()) {
    return absl::InvalidArgumentError(
        "namespace_options.target_id is empty, but the pid mode is TARGET");
  }
  absl::StatusOr<std::string> id = ResolveContainerId(target_id);
  if (!id.ok()) return Annotate(id.status(), "namespace_options.target_id");
  BERTH_ASSIGN_OR_RETURN(ContainerRecord target, FindContainerRecord(*id));
  if (target.sandbox_id != sandbox_id) {
    return absl::InvalidArgumentError(absl::StrCat("namespace_options.target_id ", *id,
                                                   " belongs to another pod sandbox"));
  }
  BERTH_ASSIGN_OR_RETURN(runtime::ContainerState state, runtime_->State(*id));
  if (state.status != runtime::ContainerStatus::kRunning || state.pid <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "namespace_options.target_id ", *id, " is ", runtime::StatusName(state.status),
        ", not running"));
  }
  return absl::StrCat("/proc/", state.pid, "/ns/pid");
}

}  // namespace berth::pod
