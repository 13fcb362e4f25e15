#include "pod/security_spec.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/linux/apparmor.h"
#include "runtime/linux/capabilities.h"
#include "runtime/seccomp_default.h"

namespace berth::pod {
namespace {

using ::runtime::v1::SecurityProfile;

// Older kubelets send the deprecated string fields instead of SecurityProfile messages.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
std::string LegacySeccomp(const ::runtime::v1::LinuxContainerSecurityContext& sc) {
  return sc.seccomp_profile_path();
}
std::string LegacySeccomp(const ::runtime::v1::LinuxSandboxSecurityContext& sc) {
  return sc.seccomp_profile_path();
}
std::string LegacyAppArmor(const ::runtime::v1::LinuxContainerSecurityContext& sc) {
  return sc.apparmor_profile();
}
#pragma GCC diagnostic pop

absl::StatusOr<ProfileChoice> ContainerSeccomp(
    const ::runtime::v1::LinuxContainerSecurityContext& sc) {
  return ReadProfileChoice(sc.has_seccomp() ? &sc.seccomp() : nullptr, LegacySeccomp(sc), true,
                           "config.linux.security_context.seccomp");
}

absl::StatusOr<ProfileChoice> ContainerAppArmor(
    const ::runtime::v1::LinuxContainerSecurityContext& sc) {
  return ReadProfileChoice(sc.has_apparmor() ? &sc.apparmor() : nullptr, LegacyAppArmor(sc), false,
                           "config.linux.security_context.apparmor");
}

absl::StatusOr<ProfileChoice> SandboxSeccomp(const ::runtime::v1::PodSandboxConfig& config) {
  const auto& sc = config.linux().security_context();
  return ReadProfileChoice(sc.has_seccomp() ? &sc.seccomp() : nullptr, LegacySeccomp(sc), true,
                           "config.linux.security_context.seccomp");
}

// "net_admin", "CAP_NET_ADMIN" and "cap_net_admin" all name CAP_NET_ADMIN.
std::string NormalizeCapability(const std::string& raw) {
  std::string name = absl::AsciiStrToUpper(raw);
  if (name != "ALL" && !absl::StartsWith(name, "CAP_")) name = "CAP_" + name;
  return name;
}

absl::StatusOr<std::vector<std::string>> NormalizeList(
    const google::protobuf::RepeatedPtrField<std::string>& raw, const std::string& field) {
  std::vector<std::string> names;
  for (const std::string& item : raw) {
    std::string name = NormalizeCapability(item);
    if (name != "ALL" && !runtime::IsKnownCapabilityName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown capability \"", item, "\""));
    }
    names.push_back(std::move(name));
  }
  return names;
}

void AddUnique(std::vector<std::string>& set, const std::string& name) {
  if (std::find(set.begin(), set.end(), name) == set.end()) set.push_back(name);
}

bool Contains(const std::vector<std::string>& set, const std::string& name) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

// add ALL starts from every capability and drop ALL from none; the named ones are then added
// and dropped, so "drop ALL, add NET_BIND_SERVICE" leaves just that one.
absl::Status ApplyCapabilities(runtime::Spec& spec, const ::runtime::v1::Capability& request) {
  const std::string field = "config.linux.security_context.capabilities";
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> add,
                         NormalizeList(request.add_capabilities(), field + ".add_capabilities"));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> drop,
                         NormalizeList(request.drop_capabilities(), field + ".drop_capabilities"));
  BERTH_ASSIGN_OR_RETURN(
      std::vector<std::string> ambient,
      NormalizeList(request.add_ambient_capabilities(), field + ".add_ambient_capabilities"));
  if (Contains(ambient, "ALL")) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".add_ambient_capabilities: \"ALL\" is not allowed; name them"));
  }

  std::vector<std::string> caps = runtime::DefaultCapabilityNames();
  if (Contains(add, "ALL")) caps = runtime::AllCapabilityNames();
  if (Contains(drop, "ALL")) caps.clear();
  for (const std::string& name : add) {
    if (name != "ALL") AddUnique(caps, name);
  }
  for (const std::string& name : drop) std::erase(caps, name);
  // An ambient capability must also be permitted and inheritable, so it joins every set.
  for (const std::string& name : ambient) AddUnique(caps, name);

  runtime::Capabilities sets;
  sets.bounding = caps;
  sets.effective = caps;
  sets.permitted = caps;
  sets.inheritable = ambient;
  sets.ambient = ambient;
  spec.process.capabilities = std::move(sets);
  return absl::OkStatus();
}

// Device nodes of the host's /dev, for privileged containers. Pseudo-terminals, shared memory
// and message queues get their own mounts in the container, so those folders are left out.
void CollectHostDevices(const std::string& dir, std::vector<runtime::Device>& out, int depth) {
  static const std::set<std::string> skipped = {"pts", "shm", "mqueue", "fd"};
  if (depth > 8) return;
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) return;
  while (struct dirent* entry = ::readdir(stream)) {
    std::string name = entry->d_name;
    if (name == "." || name == ".." || (depth == 0 && skipped.contains(name))) continue;
    std::string path = JoinPath(dir, name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      CollectHostDevices(path, out, depth + 1);
      continue;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    runtime::Device device;
    device.path = path;
    device.type = S_ISCHR(st.st_mode) ? "c" : "b";
    device.major = major(st.st_rdev);
    device.minor = minor(st.st_rdev);
    device.file_mode = st.st_mode & 07777;
    device.uid = st.st_uid;
    device.gid = st.st_gid;
    out.push_back(std::move(device));
  }
  ::closedir(stream);
}

// A privileged container gets /sys and its cgroup folders read-write.
void MakeSysWritable(runtime::Spec& spec) {
  for (runtime::Mount& mount : spec.mounts) {
    if (mount.destination != "/sys" && mount.destination != "/sys/fs/cgroup") continue;
    std::replace(mount.options.begin(), mount.options.end(), std::string("ro"),
                 std::string("rw"));
  }
}

void ApplyPrivileged(runtime::Spec& spec) {
  runtime::Capabilities sets;
  sets.bounding = runtime::AllCapabilityNames();
  sets.effective = sets.bounding;
  sets.permitted = sets.bounding;
  spec.process.capabilities = std::move(sets);

  std::vector<runtime::Device> devices;
  CollectHostDevices("/dev", devices, 0);
  std::set<std::string> have;
  for (const runtime::Device& device : spec.linux.devices) have.insert(device.path);
  for (runtime::Device& device : devices) {
    if (!have.contains(device.path)) spec.linux.devices.push_back(std::move(device));
  }

  MakeSysWritable(spec);
  spec.linux.masked_paths.clear();
  spec.linux.readonly_paths.clear();
  spec.linux.seccomp.reset();
  spec.process.apparmor_profile.clear();
}

// Turns a Localhost seccomp file into the spec's filter; any failure is the caller's to fix.
absl::StatusOr<runtime::Seccomp> LoadLocalhostSeccomp(const std::string& path) {
  absl::StatusOr<runtime::Seccomp> profile = runtime::ReadSeccompFile(path);
  if (profile.ok()) return profile;
  if (absl::IsInvalidArgument(profile.status())) return profile.status();
  return absl::InvalidArgumentError(profile.status().message());
}

absl::Status ApplySeccomp(runtime::Spec& spec, const ProfileChoice& choice) {
  switch (choice.kind) {
    case ProfileChoice::Kind::kUnconfined:
      spec.linux.seccomp.reset();
      return absl::OkStatus();
    case ProfileChoice::Kind::kRuntimeDefault: {
      std::vector<std::string> bounding;
      if (spec.process.capabilities) bounding = spec.process.capabilities->bounding;
      spec.linux.seccomp = runtime::DefaultSeccompProfile(bounding);
      return absl::OkStatus();
    }
    case ProfileChoice::Kind::kLocalhost: {
      BERTH_ASSIGN_OR_RETURN(spec.linux.seccomp, LoadLocalhostSeccomp(choice.localhost_ref));
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyAppArmor(runtime::Spec& spec, const ProfileChoice& choice) {
  spec.process.apparmor_profile.clear();
  switch (choice.kind) {
    case ProfileChoice::Kind::kUnconfined:
      return absl::OkStatus();
    case ProfileChoice::Kind::kRuntimeDefault:
      // TODO: Berth does not generate and load a default AppArmor profile; it applies one
      // only when the administrator loaded "berth-default".
      if (runtime::AppArmorEnabled() && runtime::AppArmorProfileLoaded(kDefaultAppArmorProfile)) {
        spec.process.apparmor_profile = kDefaultAppArmorProfile;
      }
      return absl::OkStatus();
    case ProfileChoice::Kind::kLocalhost:
      if (!runtime::AppArmorEnabled()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "config.linux.security_context.apparmor: profile \"", choice.localhost_ref,
            "\" requested, but AppArmor is not enabled on this host"));
      }
      if (!runtime::AppArmorProfileLoaded(choice.localhost_ref)) {
        return absl::FailedPreconditionError(
            absl::StrCat("config.linux.security_context.apparmor: profile \"",
                         choice.localhost_ref, "\" is not loaded on this host"));
      }
      spec.process.apparmor_profile = choice.localhost_ref;
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProfileChoice> ReadProfileChoice(const SecurityProfile* profile,
                                                const std::string& legacy,
                                                bool needs_absolute_ref,
                                                const std::string& field) {
  ProfileChoice choice;
  if (profile != nullptr) {
    switch (profile->profile_type()) {
      case SecurityProfile::RuntimeDefault:
        choice.kind = ProfileChoice::Kind::kRuntimeDefault;
        break;
      case SecurityProfile::Localhost:
        choice.kind = ProfileChoice::Kind::kLocalhost;
        choice.localhost_ref = profile->localhost_ref();
        break;
      default:
        choice.kind = ProfileChoice::Kind::kUnconfined;
        break;
    }
  } else if (legacy == "runtime/default" || legacy == "docker/default") {
    choice.kind = ProfileChoice::Kind::kRuntimeDefault;
  } else if (absl::StartsWith(legacy, "localhost/")) {
    choice.kind = ProfileChoice::Kind::kLocalhost;
    choice.localhost_ref = legacy.substr(10);
  } else if (!legacy.empty() && legacy != "unconfined") {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown profile \"", legacy, "\""));
  }

  if (choice.kind != ProfileChoice::Kind::kLocalhost) return choice;
  if (choice.localhost_ref.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".localhost_ref is empty for a Localhost profile"));
  }
  if (needs_absolute_ref && choice.localhost_ref.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(field, ".localhost_ref \"",
                                                   choice.localhost_ref,
                                                   "\" must be an absolute path"));
  }
  return choice;
}

absl::Status ValidateContainerProfiles(const ::runtime::v1::ContainerConfig& config) {
  const auto& sc = config.linux().security_context();
  BERTH_RETURN_IF_ERROR(ContainerSeccomp(sc).status());
  return ContainerAppArmor(sc).status();
}

absl::Status ValidateSandboxProfiles(const ::runtime::v1::PodSandboxConfig& config) {
  BERTH_RETURN_IF_ERROR(SandboxSeccomp(config).status());
  const auto& sc = config.linux().security_context();
  return ReadProfileChoice(sc.has_apparmor() ? &sc.apparmor() : nullptr, "", false,
                           "config.linux.security_context.apparmor")
      .status();
}

absl::Status ApplyContainerSecurity(runtime::Spec& spec,
                                    const ::runtime::v1::ContainerConfig& config,
                                    const SandboxRecord& sandbox) {
  const auto& sc = config.linux().security_context();
  spec.process.no_new_privileges = sc.no_new_privs();
  if (sc.privileged()) {
    if (!sandbox.config.linux().security_context().privileged()) {
      return absl::InvalidArgumentError(
          "config.linux.security_context.privileged: a privileged container needs a privileged "
          "sandbox (its pod's security_context.privileged is false)");
    }
    ApplyPrivileged(spec);
    return absl::OkStatus();
  }

  BERTH_RETURN_IF_ERROR(ApplyCapabilities(spec, sc.capabilities()));
  if (!sc.masked_paths().empty()) {
    spec.linux.masked_paths.assign(sc.masked_paths().begin(), sc.masked_paths().end());
  }
  if (!sc.readonly_paths().empty()) {
    spec.linux.readonly_paths.assign(sc.readonly_paths().begin(), sc.readonly_paths().end());
  }

  BERTH_ASSIGN_OR_RETURN(ProfileChoice seccomp, ContainerSeccomp(sc));
  BERTH_RETURN_IF_ERROR(ApplySeccomp(spec, seccomp));
  BERTH_ASSIGN_OR_RETURN(ProfileChoice apparmor, ContainerAppArmor(sc));
  return ApplyAppArmor(spec, apparmor);
}

absl::Status ApplySandboxSecurity(runtime::Spec& spec,
                                  const ::runtime::v1::PodSandboxConfig& config) {
  // The pause process mounts sysfs first in the pod's network namespace, and the kernel keeps
  // that first mount's read-only flag for every later sysfs mount there. In a privileged pod it
  // must be read-write, or no privileged container of the pod could write to /sys.
  if (config.linux().security_context().privileged()) MakeSysWritable(spec);
  BERTH_ASSIGN_OR_RETURN(ProfileChoice seccomp, SandboxSeccomp(config));
  return ApplySeccomp(spec, seccomp);
}

}  // namespace berth::pod
