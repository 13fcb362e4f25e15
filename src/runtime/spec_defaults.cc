// Defaults a pod starts from, and the checks of what the launcher can honour.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "runtime/spec.h"
#include "runtime/linux/sysctl.h"

namespace berth::runtime {
namespace {

const std::set<std::string>& KnownNamespaceTypes() {
  static const std::set<std::string> types = {"pid", "network", "mount", "ipc",
                                              "uts", "cgroup",  "user"};
  return types;
}

const std::set<std::string>& KnownPropagations() {
  static const std::set<std::string> values = {"", "private", "rprivate", "slave", "rslave"};
  return values;
}

absl::Status Unsupported(const std::string& feature) {
  return absl::UnimplementedError(absl::StrCat("OCI spec: ", feature, " is not supported yet"));
}

absl::Status Invalid(const std::string& detail) {
  return absl::InvalidArgumentError(absl::StrCat("OCI spec: ", detail));
}

absl::Status ValidateSysctls(const Spec& spec) {
  for (const auto& [key, value] : spec.linux.sysctl) {
    absl::Status checked = CheckSysctl(key, value);
    if (!checked.ok()) return Invalid(absl::StrCat("linux.sysctl: ", checked.message()));
    // Only namespaced sysctls stay inside the container: any other would change the host.
    std::string type = SysctlNamespaceType(key);
    if (type.empty()) {
      return Invalid(absl::StrCat("linux.sysctl: \"", key,
                                  "\" is not namespaced, so setting it would change the host"));
    }
    if (FindNamespace(spec, type) == nullptr) {
      return Invalid(absl::StrCat("linux.sysctl: \"", key, "\" needs a ", type,
                                  " namespace of the container, not the host's"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaces(const Spec& spec) {
  std::set<std::string> seen;
  for (const Namespace& ns : spec.linux.namespaces) {
    if (!KnownNamespaceTypes().contains(ns.type)) {
      return Invalid(absl::StrCat("linux.namespaces: unknown type \"", ns.type, "\""));
    }
    if (!seen.insert(ns.type).second) {
      return Invalid(absl::StrCat("linux.namespaces: type \"", ns.type, "\" given twice"));
    }
    if (ns.type == "user" && ns.path.empty()) {
      return Unsupported("a new user namespace; Berth joins a pinned one by path");
    }
    if (!ns.path.empty() && ns.path[0] != '/') {
      return Invalid(absl::StrCat("linux.namespaces: path of \"", ns.type,
                                  "\" must be absolute: \"", ns.path, "\""));
    }
  }
  const Namespace* mount = FindNamespace(spec, "mount");
  if (mount == nullptr) {
    return Invalid("linux.namespaces must contain a new \"mount\" namespace");
  }
  if (!mount->path.empty()) return Unsupported("joining a mount namespace by path");
  return absl::OkStatus();
}

absl::Status ValidateUserNamespace(const Spec& spec) {
  bool has_mappings = !spec.linux.uid_mappings.empty() || !spec.linux.gid_mappings.empty();
  if (FindNamespace(spec, "user") == nullptr) {
    if (has_mappings) return Invalid("linux.uidMappings/gidMappings need a user namespace");
    return absl::OkStatus();
  }
  absl::Status checked = CheckIdMappings(spec.linux.uid_mappings, "linux.uidMappings");
  if (checked.ok()) checked = CheckIdMappings(spec.linux.gid_mappings, "linux.gidMappings");
  if (!checked.ok()) return Invalid(std::string(checked.message()));
  return absl::OkStatus();
}

absl::Status ValidateMounts(const Spec& spec) {
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& mount = spec.mounts[i];
    if (mount.destination.empty() || mount.destination[0] != '/') {
      return Invalid(absl::StrCat("mounts[", i, "].destination must be absolute: \"",
                                  mount.destination, "\""));
    }
    for (const std::string& option : mount.options) {
      if (option == "idmap" && FindNamespace(spec, "user") == nullptr) {
        return Invalid(absl::StrCat("mounts[", i,
                                    "] has \"idmap\" but the container has no user "
                                    "namespace"));
      }
    }
    if (mount.type.empty()) {
      bool bind = false;
      for (const std::string& option : mount.options) bind |= option == "bind" || option == "rbind";
      if (!bind) return Invalid(absl::StrCat("mounts[", i, "].type is empty and not a bind mount"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDevices(const Spec& spec) {
  for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
    const Device& device = spec.linux.devices[i];
    if (!absl::StartsWith(device.path, "/dev/")) {
      return Invalid(
          absl::StrCat("linux.devices[", i, "].path must be under /dev: \"", device.path, "\""));
    }
    if (device.type != "c" && device.type != "b" && device.type != "u" && device.type != "p") {
      return Invalid(
          absl::StrCat("linux.devices[", i, "].type must be c, b, u or p: \"", device.type, "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckIdMappings(const std::vector<IdMapping>& mappings, const std::string& where) {
  auto invalid = [&](const std::string& detail) {
    return absl::InvalidArgumentError(absl::StrCat(where, detail));
  };
  if (mappings.empty()) return invalid(" is empty");
  // The kernel takes at most this many lines in a uid_map or gid_map file.
  constexpr size_t kMaxLines = 340;
  if (mappings.size() > kMaxLines) {
    return invalid(absl::StrCat(" has ", mappings.size(), " entries, more than ", kMaxLines));
  }
  for (size_t i = 0; i < mappings.size(); ++i) {
    const IdMapping& m = mappings[i];
    uint64_t container_end = uint64_t{m.container_id} + m.size;
    uint64_t host_end = uint64_t{m.host_id} + m.size;
    std::string at = absl::StrCat("[", i, "]");
    if (m.size == 0) return invalid(absl::StrCat(at, ": the length is 0"));
    if (container_end > (uint64_t{1} << 32) || host_end > (uint64_t{1} << 32)) {
      return invalid(absl::StrCat(at, ": ", m.size, " ids from ", m.container_id, " (host ",
                                  m.host_id, ") run past 2^32"));
    }
    // Handing the host's root to a pod would undo what the namespace is for.
    if (m.host_id == 0) return invalid(absl::StrCat(at, ": maps the host's id 0"));
    for (size_t j = 0; j < i; ++j) {
      const IdMapping& o = mappings[j];
      bool container_overlap =
          m.container_id < o.container_id + uint64_t{o.size} && o.container_id < container_end;
      bool host_overlap = m.host_id < o.host_id + uint64_t{o.size} && o.host_id < host_end;
      if (container_overlap || host_overlap) {
        return invalid(absl::StrCat(at, " overlaps [", j, "]"));
      }
    }
  }
  if (!MapToHost(mappings, 0)) return invalid(" does not map container id 0");
  return absl::OkStatus();
}

absl::Status ValidateSpec(const Spec& spec) {
  if (spec.process.args.empty()) return Invalid("process.args is empty");
  if (spec.process.terminal) return Unsupported("process.terminal");
  if (!spec.process.cwd.empty() && spec.process.cwd[0] != '/') {
    return Invalid(absl::StrCat("process.cwd must be absolute: \"", spec.process.cwd, "\""));
  }
  if (spec.root.path.empty()) return Invalid("root.path is empty");
  if (spec.linux.seccomp) {
    BERTH_RETURN_IF_ERROR(ValidateSeccomp(*spec.linux.seccomp, "linux.seccomp."));
  }
  if (!KnownPropagations().contains(spec.linux.rootfs_propagation)) {
    return Unsupported(
        absl::StrCat("linux.rootfsPropagation \"", spec.linux.rootfs_propagation, "\""));
  }
  BERTH_RETURN_IF_ERROR(ValidateSysctls(spec));
  BERTH_RETURN_IF_ERROR(ValidateNamespaces(spec));
  BERTH_RETURN_IF_ERROR(ValidateUserNamespace(spec));
  BERTH_RETURN_IF_ERROR(ValidateMounts(spec));
  return ValidateDevices(spec);
}

std::vector<Mount> DefaultMounts() {
  return {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
  };
}

std::vector<Device> DefaultDevices() {
  auto make = [](const char* path, int64_t major, int64_t minor) {
    Device device;
    device.path = path;
    device.type = "c";
    device.major = major;
    device.minor = minor;
    device.file_mode = 0666;
    device.uid = 0;
    device.gid = 0;
    return device;
  };
  return {make("/dev/null", 1, 3),   make("/dev/zero", 1, 5),    make("/dev/full", 1, 7),
          make("/dev/random", 1, 8), make("/dev/urandom", 1, 9), make("/dev/tty", 5, 0)};
}

std::vector<std::string> DefaultCapabilityNames() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

std::vector<std::string> DefaultMaskedPaths() {
  return {"/proc/acpi",
          "/proc/asound",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/sys/firmware",
          "/sys/devices/virtual/powercap"};
}

std::vector<std::string> DefaultReadonlyPaths() {
  return {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
}

Spec BaseSpec() {
  Spec spec;
  spec.process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  Capabilities caps;
  caps.bounding = DefaultCapabilityNames();
  caps.effective = caps.bounding;
  caps.permitted = caps.bounding;
  spec.process.capabilities = std::move(caps);
  spec.mounts = DefaultMounts();
  spec.linux.namespaces = {{"pid", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}, {"network", ""}};
  spec.linux.devices = DefaultDevices();
  spec.linux.masked_paths = DefaultMaskedPaths();
  spec.linux.readonly_paths = DefaultReadonlyPaths();
  return spec;
}

}  // namespace berth::runtime
