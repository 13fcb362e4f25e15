// A C++ model of the part of the OCI runtime spec (config.json) that Berth uses, with conversion
// to and from the OCI JSON format, and the defaults a pod starts from.
//
// Field names in comments are the OCI JSON names. Optional JSON members that Berth must be able
// to tell apart from zero (oomScoreAdj, resource limits) are std::optional.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::runtime {

// process.user: numeric ids only; resolving a user name is the caller's job.
struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;  // additionalGids
};

// process.capabilities: names such as "CAP_CHOWN".
struct Capabilities {
  std::vector<std::string> bounding;
  std::vector<std::string> effective;
  std::vector<std::string> inheritable;
  std::vector<std::string> permitted;
  std::vector<std::string> ambient;
};

// One process.rlimits entry, e.g. {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}.
struct Rlimit {
  std::string type;
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Process {
  bool terminal = false;  // a pty is not supported yet: ValidateSpec rejects true
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;  // absent: the process keeps no capability
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;    // noNewPrivileges
  std::optional<int> oom_score_adj;  // oomScoreAdj
  std::string apparmor_profile;      // apparmorProfile; empty means none
};

struct Root {
  std::string path;  // absolute, or relative to the bundle directory
  bool readonly = false;
};

// One entry of "mounts", or the overlay that forms the root file system.
struct Mount {
  std::string destination;  // absolute path inside the container
  std::string type;         // "bind", "tmpfs", "proc", "sysfs", "mqueue", "devpts", "cgroup", ...
  std::string source;
  std::vector<std::string> options;  // "ro", "nosuid", "rbind", "mode=755", ...
};

// linux.namespaces: a type ("pid", "network", "mount", "ipc", "uts", "cgroup", "user") and, to
// join an existing namespace instead of creating one, the path of its file.
struct Namespace {
  std::string type;
  std::string path;
};

// linux.uidMappings / gidMappings entry: ids [container_id, container_id + size) in the user
// namespace are ids [host_id, host_id + size) on the host.
struct IdMapping {
  uint32_t container_id = 0;  // containerID
  uint32_t host_id = 0;       // hostID
  uint32_t size = 0;
};

// linux.devices: a device node to create in the container's /dev.
struct Device {
  std::string path;  // e.g. "/dev/null"
  std::string type;  // "c", "b", "u" or "p"
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;  // fileMode, permission bits; 0666 when absent
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

// linux.resources: the subset Berth applies.
struct MemoryResources {
  std::optional<int64_t> limit;  // bytes
  std::optional<int64_t> swap;   // memory plus swap in bytes, as v1 memsw counts; -1 unlimited
};
struct CpuResources {
  std::optional<uint64_t> shares;  // relative weight, 2..262144
  std::optional<int64_t> quota;    // microseconds per period; -1 means no limit
  std::optional<uint64_t> period;  // microseconds
  std::string cpus;                // cpuset, e.g. "0-2,4"; empty: inherited
  std::string mems;                // memory nodes, same syntax
};
struct PidsResources {
  std::optional<int64_t> limit;  // -1 or 0 means no limit
};
// hugepageLimits entry: pageSize as the kernel names it in hugetlb files ("2MB", "1GB").
struct HugepageLimit {
  std::string page_size;  // pageSize
  uint64_t limit = 0;     // bytes
};
struct Resources {
  MemoryResources memory;
  CpuResources cpu;
  PidsResources pids;
  std::vector<HugepageLimit> hugepage_limits;   // hugepageLimits
  std::map<std::string, std::string> unified;  // cgroup v2 file name -> value
};

// linux.seccomp.syscalls[].args[]: compares argument `index` with `value` by `op`
// ("SCMP_CMP_EQ", ...). For SCMP_CMP_MASKED_EQ, `value` is the mask and `value_two` the datum.
struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;  // valueTwo
  std::string op;
};

// linux.seccomp.syscalls[]: what happens when one of `names` is called (with `args` matching).
struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;                // "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", ...
  std::optional<uint32_t> errno_ret;  // errnoRet; EPERM when absent
  std::vector<SeccompArg> args;
};

// linux.seccomp: a filter in the OCI layout.
struct Seccomp {
  std::string default_action;                // defaultAction
  std::optional<uint32_t> default_errno_ret;  // defaultErrnoRet; EPERM when absent
  std::vector<std::string> architectures;    // "SCMP_ARCH_X86_64", ...
  std::vector<std::string> flags;            // "SECCOMP_FILTER_FLAG_LOG", ...
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::string cgroups_path;  // cgroupsPath, relative to the root of each cgroup hierarchy
  Resources resources;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;    // maskedPaths
  std::vector<std::string> readonly_paths;  // readonlyPaths
  std::vector<Device> devices;
  std::string rootfs_propagation;  // rootfsPropagation; empty means "rprivate"
  std::optional<Seccomp> seccomp;  // absent: no filter
  // The mappings of the user namespace the container joins; empty without one.
  std::vector<IdMapping> uid_mappings;  // uidMappings
  std::vector<IdMapping> gid_mappings;  // gidMappings
};

struct Spec {
  std::string oci_version = "1.0.2";  // ociVersion
  Process process;
  Root root;
  std::string hostname;
  std::vector<Mount> mounts;
  Linux linux;
  std::map<std::string, std::string> annotations;
};

// Converts between Spec and the OCI config.json layout. Parsing reports the JSON path of a bad
// member, e.g. InvalidArgument "process.user.uid: type must be number, but is string".
absl::StatusOr<Spec> SpecFromJson(const nlohmann::json& json);
nlohmann::json SpecToJson(const Spec& spec);
absl::StatusOr<Process> ProcessFromJson(const nlohmann::json& json);
nlohmann::json ProcessToJson(const Process& process);
absl::StatusOr<Mount> MountFromJson(const nlohmann::json& json);
nlohmann::json MountToJson(const Mount& mount);

// Converts a seccomp filter from and to its OCI JSON form (also the form of a profile file).
// Errors name the member, e.g. "syscalls[3].action: ...". `where` prefixes member names.
absl::StatusOr<Seccomp> SeccompFromJson(const nlohmann::json& json, const std::string& where);
nlohmann::json SeccompToJson(const Seccomp& seccomp);

// Checks actions, operators and argument indexes of a filter without touching the system.
absl::Status ValidateSeccomp(const Seccomp& seccomp, const std::string& where);

// Reads and checks a seccomp profile file in the OCI JSON form. Errors name the file and the
// reason (unreadable, not JSON, a bad member).
absl::StatusOr<Seccomp> ReadSeccompFile(const std::string& path);

// Reads or writes <path> (usually <bundle>/config.json). Writing is atomic.
absl::StatusOr<Spec> ReadSpecFile(const std::string& path);
absl::Status WriteSpecFile(const std::string& path, const Spec& spec);

// Checks what the launcher can honour without touching the system: args and root present,
// known namespace types, a new mount namespace, absolute mount destinations, only namespaced
// sysctls (net.*, IPC and UTS keys) with their namespace, a well-formed seccomp filter, no
// terminal, a user namespace only joined by path and with mappings that map id 0. Unsupported
// features are Unimplemented with the field named.
absl::Status ValidateSpec(const Spec& spec);

// The mounts every container starts from: /proc, /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue,
// /sys (read-only) and /sys/fs/cgroup (read-only), in that order.
std::vector<Mount> DefaultMounts();

// The device nodes every container gets: null, zero, full, random, urandom, tty.
std::vector<Device> DefaultDevices();

// The capabilities CRI runtimes grant by default (CAP_CHOWN, CAP_DAC_OVERRIDE, ...).
std::vector<std::string> DefaultCapabilityNames();

// Paths masked and made read-only by default, as CRI runtimes do for unprivileged containers.
std::vector<std::string> DefaultMaskedPaths();
std::vector<std::string> DefaultReadonlyPaths();

// A spec with the defaults above, new pid, ipc, uts, mount and network namespaces, the default
// capabilities in bounding, effective and permitted, and PATH set. The caller fills in
// process.args, root.path, hostname, cgroupsPath and replaces namespaces it wants to join.
Spec BaseSpec();

// Checks a list of id mappings: 1 to 340 entries, none empty, none running past 2^32, none
// overlapping another on either side, none mapping the host's id 0, and container id 0 mapped.
// InvalidArgument messages start with `where`, e.g. "linux.uidMappings[1] overlaps [0]".
absl::Status CheckIdMappings(const std::vector<IdMapping>& mappings, const std::string& where);

// The host id of `id` in the user namespace under `mappings`; nullopt when it is not mapped.
std::optional<uint32_t> MapToHost(const std::vector<IdMapping>& mappings, uint32_t id);

// Returns the namespace entry of `type`, or nullptr.
const Namespace* FindNamespace(const Spec& spec, const std::string& type);

}  // namespace berth::runtime
