#include "runtime/shim/shim_files.h"

#include "absl/strings/str_cat.h"
#include "base/json_file.h"
#include "base/status.h"

namespace berth::runtime {

absl::Status WriteLaunchRecord(const std::string& path, const LaunchRecord& record) {
  nlohmann::json json = {{"id", record.id},
                         {"bundle_dir", record.bundle_dir},
                         {"log_path", record.log_path},
                         {"cgroups_path", record.cgroups_path}};
  if (record.rootfs_mount) json["rootfs_mount"] = MountToJson(*record.rootfs_mount);
  return WriteJsonFileAtomic(path, json, 0600);
}

absl::StatusOr<LaunchRecord> ReadLaunchRecord(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path));
  LaunchRecord record;
  try {
    record.id = json.at("id").get<std::string>();
    record.bundle_dir = json.at("bundle_dir").get<std::string>();
    record.log_path = json.value("log_path", "");
    record.cgroups_path = json.value("cgroups_path", "");
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid launch record ", path, ": ", e.what()));
  }
  if (json.contains("rootfs_mount")) {
    BERTH_ASSIGN_OR_RETURN(record.rootfs_mount, MountFromJson(json["rootfs_mount"]));
  }
  return record;
}

absl::StatusOr<Spec> ReadBundleSpec(const std::string& bundle_dir) {
  BERTH_ASSIGN_OR_RETURN(Spec spec, ReadSpecFile(JoinPath(bundle_dir, "config.json")));
  if (!spec.root.path.empty() && spec.root.path[0] != '/') {
    spec.root.path = JoinPath(bundle_dir, spec.root.path);
  }
  return spec;
}

}  // namespace berth::runtime
