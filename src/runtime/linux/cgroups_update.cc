#include "runtime/linux/cgroups_update.h"

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/launcher.h"

namespace berth::runtime {

absl::Status UpdateContainerCgroup(const Spec& spec, const std::string& id,
                                   const Resources& resources) {
  BERTH_ASSIGN_OR_RETURN(CgroupLayout layout, DetectCgroupLayout());
  BERTH_RETURN_IF_ERROR(ValidateResourcesFor(layout, resources));
  BERTH_ASSIGN_OR_RETURN(std::vector<CgroupDir> dirs,
                         CgroupDirsFor(layout, ContainerCgroupsPath(spec, id)));
  for (const CgroupDir& dir : dirs) {
    if (!PathExists(dir.path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cgroup ", dir.path, " of container ", id, " does not exist"));
    }
  }
  return Annotate(ApplyCgroupWrites(PlanResourceUpdate(layout, dirs, resources)),
                  absl::StrCat("update cgroup of container ", id));
}

}  // namespace berth::runtime
