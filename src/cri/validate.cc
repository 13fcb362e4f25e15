#include "cri/validate.h"

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "pod/security_spec.h"
#include "pod/resources_spec.h"
#include "pod/user_spec.h"
#include "pod/userns_spec.h"
#include "runtime/linux/cgroups_systemd.h"
#include "runtime/linux/sysctl.h"

namespace berth::cri {
namespace {

absl::Status Missing(const char* field) {
  return absl::InvalidArgumentError(absl::StrCat(field, " is missing or empty"));
}

// Names and namespaces become parts of file names and record keys, so a '/' or a NUL in them is
// refused rather than escaped.
absl::Status CheckNamePart(const std::string& value, const char* field) {
  if (value.empty()) return Missing(field);
  if (value.find('/') != std::string::npos || value.find('\0') != std::string::npos ||
      value == "." || value == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", value, "\" must not contain '/' or NUL or be . or .."));
  }
  return absl::OkStatus();
}

// Sysctls and user ids of a pod, checked before anything is made; see runtime/linux/sysctl.h
// and pod/user_spec.h for the rules.
absl::Status ValidatePodUserAndSysctls(const ::runtime::v1::LinuxPodSandboxConfig& linux) {
  for (const auto& [key, value] : linux.sysctls()) {
    BERTH_RETURN_IF_ERROR(Annotate(runtime::CheckSysctl(key, value), "config.linux.sysctls"));
    if (runtime::SysctlNamespaceType(key).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config.linux.sysctls: \"", key,
          "\" is not namespaced, so setting it would change the host; only net.*, kernel.shm*, "
          "kernel.msg*, kernel.sem and fs.mqueue.* are allowed"));
    }
  }
  BERTH_RETURN_IF_ERROR(
      pod::PodUsernsOf(linux.security_context().namespace_options()).status());
  return Annotate(pod::CheckPodUserIds(linux.security_context()), "config.linux");
}

// Resources and user ids of a container.
absl::Status ValidateContainerResources(const ::runtime::v1::LinuxContainerConfig& linux) {
  BERTH_RETURN_IF_ERROR(
      Annotate(pod::ValidateCriResources(linux.resources()), "config.linux"));
  const auto& security = linux.security_context();
  if (security.has_run_as_user()) {
    BERTH_RETURN_IF_ERROR(Annotate(
        pod::CheckId(security.run_as_user().value(), "run_as_user").status(),
        "config.linux.security_context"));
  }
  if (security.has_run_as_group()) {
    BERTH_RETURN_IF_ERROR(Annotate(
        pod::CheckId(security.run_as_group().value(), "run_as_group").status(),
        "config.linux.security_context"));
  }
  for (int64_t gid : security.supplemental_groups()) {
    BERTH_RETURN_IF_ERROR(Annotate(pod::CheckId(gid, "supplemental_groups").status(),
                                   "config.linux.security_context"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePodSandboxConfig(const ::runtime::v1::PodSandboxConfig& config) {
  if (!config.has_metadata()) return Missing("config.metadata");
  const auto& metadata = config.metadata();
  if (absl::Status s = CheckNamePart(metadata.name(), "config.metadata.name"); !s.ok()) return s;
  if (absl::Status s = CheckNamePart(metadata.namespace_(), "config.metadata.namespace"); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckNamePart(metadata.uid(), "config.metadata.uid"); !s.ok()) return s;
  if (!config.log_directory().empty() && config.log_directory().front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "config.log_directory \"", config.log_directory(), "\" must be an absolute path"));
  }
  BERTH_RETURN_IF_ERROR(pod::ValidateSandboxProfiles(config));
  const std::string& parent = config.linux().cgroup_parent();
  if (runtime::IsSystemdCgroupsPath(parent)) {
    // The systemd driver's kubelet names the pod's slice, e.g. "kubepods-pod12.slice".
    BERTH_RETURN_IF_ERROR(
        Annotate(runtime::ExpandSystemdSlice(parent).status(), "config.linux.cgroup_parent"));
  } else if (!parent.empty() &&
             (parent.front() != '/' || parent.find("..") != std::string::npos)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config.linux.cgroup_parent \"", parent,
        "\" must be an absolute path without \"..\" or a systemd slice name"));
  }
  return ValidatePodUserAndSysctls(config.linux());
}

absl::Status ValidateContainerConfig(const ::runtime::v1::ContainerConfig& config) {
  if (!config.has_metadata()) return Missing("config.metadata");
  if (absl::Status s = CheckNamePart(config.metadata().name(), "config.metadata.name"); !s.ok()) {
    return s;
  }
  if (config.image().image().empty()) return Missing("config.image.image");
  const std::string& log_path = config.log_path();
  if (!log_path.empty() && (log_path.front() == '/' || log_path.find("..") != std::string::npos)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config.log_path \"", log_path,
        "\" must be relative to the sandbox's log_directory and must not contain \"..\""));
  }
  BERTH_RETURN_IF_ERROR(pod::ValidateContainerProfiles(config));
  BERTH_RETURN_IF_ERROR(ValidateContainerResources(config.linux()));
  if (config.tty()) {
    return absl::UnimplementedError("config.tty: containers with a terminal are not supported yet");
  }
  return absl::OkStatus();
}

absl::Status ValidateUpdatedResources(const ::runtime::v1::LinuxContainerResources& resources) {
  return Annotate(pod::ValidateCriResources(resources), "linux");
}

absl::Status ValidateRuntimeHandler(const std::string& handler) {
  if (handler.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "runtime_handler \"", handler, "\" is not configured; berth has only the default handler \"\""));
}

absl::Status ValidateId(const std::string& id, const char* field) {
  if (id.empty()) return Missing(field);
  return absl::OkStatus();
}

}  // namespace berth::cri
