#include "runtime/spec.h"

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/json_file.h"
#include "base/status.h"

namespace berth::runtime {
namespace {

using nlohmann::json;

// Each reader takes the JSON path of the object it reads ("process.user.") so that an error
// names the member that broke, not only the type the parser expected.

absl::Status BadMember(const std::string& where, const std::string& key,
                       const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("OCI spec: invalid ", where, key, ": ", reason));
}

absl::Status ExpectObject(const json& value, const std::string& where) {
  if (value.is_object()) return absl::OkStatus();
  std::string name = where.empty() ? "document" : where.substr(0, where.size() - 1);
  return absl::InvalidArgumentError(
      absl::StrCat("OCI spec: ", name, ": must be an object, but is ", value.type_name()));
}

template <typename T>
absl::Status Get(const json& obj, const std::string& where, const char* key, T* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  try {
    *out = it->template get<T>();
  } catch (const json::exception& e) {
    return BadMember(where, key, e.what());
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Get(const json& obj, const std::string& where, const char* key,
                 std::optional<T>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  T value{};
  BERTH_RETURN_IF_ERROR(Get(obj, where, key, &value));
  *out = std::move(value);
  return absl::OkStatus();
}

// Returns the member `key` when it is present as an object, nullptr when absent.
absl::StatusOr<const json*> Child(const json& obj, const std::string& where, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  BERTH_RETURN_IF_ERROR(ExpectObject(*it, absl::StrCat(where, key, ".")));
  return &*it;
}

absl::StatusOr<User> ParseUser(const json& obj, const std::string& where) {
  User user;
  BERTH_RETURN_IF_ERROR(Get(obj, where, "uid", &user.uid));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "gid", &user.gid));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "additionalGids", &user.additional_gids));
  return user;
}

absl::StatusOr<Capabilities> ParseCapabilities(const json& obj, const std::string& where) {
  Capabilities caps;
  BERTH_RETURN_IF_ERROR(Get(obj, where, "bounding", &caps.bounding));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "effective", &caps.effective));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "inheritable", &caps.inheritable));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "permitted", &caps.permitted));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "ambient", &caps.ambient));
  return caps;
}

absl::StatusOr<Process> ParseProcess(const json& obj, const std::string& where) {
  BERTH_RETURN_IF_ERROR(ExpectObject(obj, where));
  Process process;
  BERTH_RETURN_IF_ERROR(Get(obj, where, "terminal", &process.terminal));

  BERTH_ASSIGN_OR_RETURN(const json* user, Child(obj, where, "user"));
  if (user != nullptr) {
    BERTH_ASSIGN_OR_RETURN(process.user, ParseUser(*user, where + "user."));
  }
  BERTH_RETURN_IF_ERROR(Get(obj, where, "args", &process.args));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "env", &process.env));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "cwd", &process.cwd));

  BERTH_ASSIGN_OR_RETURN(const json* caps, Child(obj, where, "capabilities"));
  if (caps != nullptr) {
    BERTH_ASSIGN_OR_RETURN(process.capabilities, ParseCapabilities(*caps, where + "capabilities."));
  }

  auto rlimits = obj.find("rlimits");
  if (rlimits != obj.end() && !rlimits->is_null()) {
    if (!rlimits->is_array()) return BadMember(where, "rlimits", "must be an array");
    for (size_t i = 0; i < rlimits->size(); ++i) {
      std::string at = absl::StrCat(where, "rlimits[", i, "].");
      const json& item = (*rlimits)[i];
      BERTH_RETURN_IF_ERROR(ExpectObject(item, at));
      Rlimit limit;
      BERTH_RETURN_IF_ERROR(Get(item, at, "type", &limit.type));
      BERTH_RETURN_IF_ERROR(Get(item, at, "hard", &limit.hard));
      BERTH_RETURN_IF_ERROR(Get(item, at, "soft", &limit.soft));
      process.rlimits.push_back(std::move(limit));
    }
  }

  BERTH_RETURN_IF_ERROR(Get(obj, where, "noNewPrivileges", &process.no_new_privileges));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "oomScoreAdj", &process.oom_score_adj));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "apparmorProfile", &process.apparmor_profile));
  return process;
}

absl::StatusOr<Mount> ParseMount(const json& obj, const std::string& where) {
  BERTH_RETURN_IF_ERROR(ExpectObject(obj, where));
  Mount mount;
  BERTH_RETURN_IF_ERROR(Get(obj, where, "destination", &mount.destination));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "type", &mount.type));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "source", &mount.source));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "options", &mount.options));
  return mount;
}

absl::StatusOr<Resources> ParseResources(const json& obj, const std::string& where) {
  Resources resources;
  BERTH_ASSIGN_OR_RETURN(const json* memory, Child(obj, where, "memory"));
  if (memory != nullptr) {
    BERTH_RETURN_IF_ERROR(Get(*memory, where + "memory.", "limit", &resources.memory.limit));
    BERTH_RETURN_IF_ERROR(Get(*memory, where + "memory.", "swap", &resources.memory.swap));
  }
  BERTH_ASSIGN_OR_RETURN(const json* cpu, Child(obj, where, "cpu"));
  if (cpu != nullptr) {
    std::string at = where + "cpu.";
    BERTH_RETURN_IF_ERROR(Get(*cpu, at, "shares", &resources.cpu.shares));
    BERTH_RETURN_IF_ERROR(Get(*cpu, at, "quota", &resources.cpu.quota));
    BERTH_RETURN_IF_ERROR(Get(*cpu, at, "period", &resources.cpu.period));
    BERTH_RETURN_IF_ERROR(Get(*cpu, at, "cpus", &resources.cpu.cpus));
    BERTH_RETURN_IF_ERROR(Get(*cpu, at, "mems", &resources.cpu.mems));
  }
  BERTH_ASSIGN_OR_RETURN(const json* pids, Child(obj, where, "pids"));
  if (pids != nullptr) {
    BERTH_RETURN_IF_ERROR(Get(*pids, where + "pids.", "limit", &resources.pids.limit));
  }
  auto hugepages = obj.find("hugepageLimits");
  if (hugepages != obj.end() && !hugepages->is_null()) {
    if (!hugepages->is_array()) return BadMember(where, "hugepageLimits", "must be an array");
    for (size_t i = 0; i < hugepages->size(); ++i) {
      std::string at = absl::StrCat(where, "hugepageLimits[", i, "].");
      BERTH_RETURN_IF_ERROR(ExpectObject((*hugepages)[i], at));
      HugepageLimit limit;
      BERTH_RETURN_IF_ERROR(Get((*hugepages)[i], at, "pageSize", &limit.page_size));
      BERTH_RETURN_IF_ERROR(Get((*hugepages)[i], at, "limit", &limit.limit));
      resources.hugepage_limits.push_back(std::move(limit));
    }
  }
  BERTH_RETURN_IF_ERROR(Get(obj, where, "unified", &resources.unified));
  return resources;
}

absl::StatusOr<Device> ParseDevice(const json& obj, const std::string& where) {
  BERTH_RETURN_IF_ERROR(ExpectObject(obj, where));
  Device device;
  BERTH_RETURN_IF_ERROR(Get(obj, where, "path", &device.path));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "type", &device.type));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "major", &device.major));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "minor", &device.minor));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "fileMode", &device.file_mode));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "uid", &device.uid));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "gid", &device.gid));
  return device;
}

absl::Status ParseIdMappings(const json& obj, const std::string& where, const char* key,
                             std::vector<IdMapping>* out) {
  auto list = obj.find(key);
  if (list == obj.end() || list->is_null()) return absl::OkStatus();
  if (!list->is_array()) return BadMember(where, key, "must be an array");
  for (size_t i = 0; i < list->size(); ++i) {
    std::string at = absl::StrCat(where, key, "[", i, "].");
    BERTH_RETURN_IF_ERROR(ExpectObject((*list)[i], at));
    IdMapping mapping;
    BERTH_RETURN_IF_ERROR(Get((*list)[i], at, "containerID", &mapping.container_id));
    BERTH_RETURN_IF_ERROR(Get((*list)[i], at, "hostID", &mapping.host_id));
    BERTH_RETURN_IF_ERROR(Get((*list)[i], at, "size", &mapping.size));
    out->push_back(mapping);
  }
  return absl::OkStatus();
}

json IdMappingsToJson(const std::vector<IdMapping>& mappings) {
  json out = json::array();
  for (const IdMapping& m : mappings) {
    out.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  }
  return out;
}

absl::StatusOr<Linux> ParseLinux(const json& obj, const std::string& where) {
  Linux linux;
  auto namespaces = obj.find("namespaces");
  if (namespaces != obj.end() && !namespaces->is_null()) {
    if (!namespaces->is_array()) return BadMember(where, "namespaces", "must be an array");
    for (size_t i = 0; i < namespaces->size(); ++i) {
      std::string at = absl::StrCat(where, "namespaces[", i, "].");
      BERTH_RETURN_IF_ERROR(ExpectObject((*namespaces)[i], at));
      Namespace ns;
      BERTH_RETURN_IF_ERROR(Get((*namespaces)[i], at, "type", &ns.type));
      BERTH_RETURN_IF_ERROR(Get((*namespaces)[i], at, "path", &ns.path));
      linux.namespaces.push_back(std::move(ns));
    }
  }

  BERTH_RETURN_IF_ERROR(Get(obj, where, "cgroupsPath", &linux.cgroups_path));
  BERTH_ASSIGN_OR_RETURN(const json* resources, Child(obj, where, "resources"));
  if (resources != nullptr) {
    BERTH_ASSIGN_OR_RETURN(linux.resources, ParseResources(*resources, where + "resources."));
  }
  BERTH_RETURN_IF_ERROR(Get(obj, where, "sysctl", &linux.sysctl));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "maskedPaths", &linux.masked_paths));
  BERTH_RETURN_IF_ERROR(Get(obj, where, "readonlyPaths", &linux.readonly_paths));

  auto devices = obj.find("devices");
  if (devices != obj.end() && !devices->is_null()) {
    if (!devices->is_array()) return BadMember(where, "devices", "must be an array");
    for (size_t i = 0; i < devices->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(Device device,
                             ParseDevice((*devices)[i], absl::StrCat(where, "devices[", i, "].")));
      linux.devices.push_back(std::move(device));
    }
  }

  BERTH_RETURN_IF_ERROR(Get(obj, where, "rootfsPropagation", &linux.rootfs_propagation));
  auto seccomp = obj.find("seccomp");
  if (seccomp != obj.end() && !seccomp->is_null()) {
    BERTH_ASSIGN_OR_RETURN(linux.seccomp, SeccompFromJson(*seccomp, where + "seccomp."));
  }
  BERTH_RETURN_IF_ERROR(ParseIdMappings(obj, where, "uidMappings", &linux.uid_mappings));
  BERTH_RETURN_IF_ERROR(ParseIdMappings(obj, where, "gidMappings", &linux.gid_mappings));
  return linux;
}

json UserToJson(const User& user) {
  json out = {{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) out["additionalGids"] = user.additional_gids;
  return out;
}

json ResourcesToJson(const Resources& resources) {
  json out = json::object();
  if (resources.memory.limit) out["memory"]["limit"] = *resources.memory.limit;
  if (resources.cpu.shares) out["cpu"]["shares"] = *resources.cpu.shares;
  if (resources.cpu.quota) out["cpu"]["quota"] = *resources.cpu.quota;
  if (resources.cpu.period) out["cpu"]["period"] = *resources.cpu.period;
  if (resources.pids.limit) out["pids"]["limit"] = *resources.pids.limit;
  if (resources.memory.swap) out["memory"]["swap"] = *resources.memory.swap;
  if (!resources.cpu.cpus.empty()) out["cpu"]["cpus"] = resources.cpu.cpus;
  if (!resources.cpu.mems.empty()) out["cpu"]["mems"] = resources.cpu.mems;
  for (const HugepageLimit& limit : resources.hugepage_limits) {
    out["hugepageLimits"].push_back({{"pageSize", limit.page_size}, {"limit", limit.limit}});
  }
  if (!resources.unified.empty()) out["unified"] = resources.unified;
  return out;
}

json DeviceToJson(const Device& device) {
  json out = {{"path", device.path},
              {"type", device.type},
              {"major", device.major},
              {"minor", device.minor}};
  if (device.file_mode) out["fileMode"] = *device.file_mode;
  if (device.uid) out["uid"] = *device.uid;
  if (device.gid) out["gid"] = *device.gid;
  return out;
}

json LinuxToJson(const Linux& linux) {
  json out = json::object();
  json namespaces = json::array();
  for (const Namespace& ns : linux.namespaces) {
    json item = {{"type", ns.type}};
    if (!ns.path.empty()) item["path"] = ns.path;
    namespaces.push_back(std::move(item));
  }
  out["namespaces"] = std::move(namespaces);
  if (!linux.cgroups_path.empty()) out["cgroupsPath"] = linux.cgroups_path;
  json resources = ResourcesToJson(linux.resources);
  if (!resources.empty()) out["resources"] = std::move(resources);
  if (!linux.sysctl.empty()) out["sysctl"] = linux.sysctl;
  if (!linux.masked_paths.empty()) out["maskedPaths"] = linux.masked_paths;
  if (!linux.readonly_paths.empty()) out["readonlyPaths"] = linux.readonly_paths;
  if (!linux.devices.empty()) {
    json devices = json::array();
    for (const Device& device : linux.devices) devices.push_back(DeviceToJson(device));
    out["devices"] = std::move(devices);
  }
  if (!linux.rootfs_propagation.empty()) out["rootfsPropagation"] = linux.rootfs_propagation;
  if (linux.seccomp) out["seccomp"] = SeccompToJson(*linux.seccomp);
  if (!linux.uid_mappings.empty()) out["uidMappings"] = IdMappingsToJson(linux.uid_mappings);
  if (!linux.gid_mappings.empty()) out["gidMappings"] = IdMappingsToJson(linux.gid_mappings);
  return out;
}

}  // namespace

absl::StatusOr<Process> ProcessFromJson(const json& value) {
  return ParseProcess(value, "process.");
}

json ProcessToJson(const Process& process) {
  json out = {{"terminal", process.terminal},
              {"user", UserToJson(process.user)},
              {"args", process.args},
              {"env", process.env},
              {"cwd", process.cwd}};
  if (process.capabilities) {
    const Capabilities& caps = *process.capabilities;
    out["capabilities"] = {{"bounding", caps.bounding},
                           {"effective", caps.effective},
                           {"inheritable", caps.inheritable},
                           {"permitted", caps.permitted},
                           {"ambient", caps.ambient}};
  }
  if (!process.rlimits.empty()) {
    json rlimits = json::array();
    for (const Rlimit& limit : process.rlimits) {
      rlimits.push_back({{"type", limit.type}, {"hard", limit.hard}, {"soft", limit.soft}});
    }
    out["rlimits"] = std::move(rlimits);
  }
  if (process.no_new_privileges) out["noNewPrivileges"] = true;
  if (process.oom_score_adj) out["oomScoreAdj"] = *process.oom_score_adj;
  if (!process.apparmor_profile.empty()) out["apparmorProfile"] = process.apparmor_profile;
  return out;
}

absl::StatusOr<Mount> MountFromJson(const json& value) { return ParseMount(value, "mount."); }

json MountToJson(const Mount& mount) {
  json out = {{"destination", mount.destination}, {"type", mount.type}, {"source", mount.source}};
  if (!mount.options.empty()) out["options"] = mount.options;
  return out;
}

absl::StatusOr<Spec> SpecFromJson(const json& obj) {
  BERTH_RETURN_IF_ERROR(ExpectObject(obj, ""));
  Spec spec;
  BERTH_RETURN_IF_ERROR(Get(obj, "", "ociVersion", &spec.oci_version));
  BERTH_ASSIGN_OR_RETURN(const json* process, Child(obj, "", "process"));
  if (process != nullptr) {
    BERTH_ASSIGN_OR_RETURN(spec.process, ParseProcess(*process, "process."));
  }
  BERTH_ASSIGN_OR_RETURN(const json* root, Child(obj, "", "root"));
  if (root != nullptr) {
    BERTH_RETURN_IF_ERROR(Get(*root, "root.", "path", &spec.root.path));
    BERTH_RETURN_IF_ERROR(Get(*root, "root.", "readonly", &spec.root.readonly));
  }
  BERTH_RETURN_IF_ERROR(Get(obj, "", "hostname", &spec.hostname));
  auto mounts = obj.find("mounts");
  if (mounts != obj.end() && !mounts->is_null()) {
    if (!mounts->is_array()) return BadMember("", "mounts", "must be an array");
    for (size_t i = 0; i < mounts->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(Mount mount,
                             ParseMount((*mounts)[i], absl::StrCat("mounts[", i, "].")));
      spec.mounts.push_back(std::move(mount));
    }
  }
  BERTH_ASSIGN_OR_RETURN(const json* linux, Child(obj, "", "linux"));
  if (linux != nullptr) {
    BERTH_ASSIGN_OR_RETURN(spec.linux, ParseLinux(*linux, "linux."));
  }
  BERTH_RETURN_IF_ERROR(Get(obj, "", "annotations", &spec.annotations));
  return spec;
}

json SpecToJson(const Spec& spec) {
  json out = {{"ociVersion", spec.oci_version},
              {"process", ProcessToJson(spec.process)},
              {"root", {{"path", spec.root.path}, {"readonly", spec.root.readonly}}}};
  if (!spec.hostname.empty()) out["hostname"] = spec.hostname;
  json mounts = json::array();
  for (const Mount& mount : spec.mounts) mounts.push_back(MountToJson(mount));
  out["mounts"] = std::move(mounts);
  out["linux"] = LinuxToJson(spec.linux);
  if (!spec.annotations.empty()) out["annotations"] = spec.annotations;
  return out;
}

absl::StatusOr<Spec> ReadSpecFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(json document, ReadJsonFile(path));
  absl::StatusOr<Spec> spec = SpecFromJson(document);
  if (!spec.ok()) return Annotate(spec.status(), path);
  return spec;
}

absl::Status WriteSpecFile(const std::string& path, const Spec& spec) {
  return WriteJsonFileAtomic(path, SpecToJson(spec), 0600);
}

std::optional<uint32_t> MapToHost(const std::vector<IdMapping>& mappings, uint32_t id) {
  for (const IdMapping& m : mappings) {
    if (id >= m.container_id && id - m.container_id < m.size)
      return m.host_id + (id - m.container_id);
  }
  return std::nullopt;
}

const Namespace* FindNamespace(const Spec& spec, const std::string& type) {
  for (const Namespace& ns : spec.linux.namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

}  // namespace berth::runtime
