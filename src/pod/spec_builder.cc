#include "pod/spec_builder.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status.h"
#include "pod/process_merge.h"
#include "pod/security_spec.h"
#include "pod/resources_spec.h"
#include "pod/user_spec.h"
#include "runtime/linux/cgroups_systemd.h"

namespace berth::pod {
namespace {

using ::runtime::v1::NamespaceMode;

const ::runtime::v1::NamespaceOption& SandboxNamespaces(const SandboxRecord& sandbox) {
  return sandbox.config.linux().security_context().namespace_options();
}

void SetNamespace(runtime::Spec& spec, const std::string& type, const std::string& path) {
  auto& namespaces = spec.linux.namespaces;
  for (auto& ns : namespaces) {
    if (ns.type == type) {
      ns.path = path;
      return;
    }
  }
  namespaces.push_back({type, path});
}

void DropNamespace(runtime::Spec& spec, const std::string& type) {
  auto& namespaces = spec.linux.namespaces;
  namespaces.erase(std::remove_if(namespaces.begin(), namespaces.end(),
                                  [&](const runtime::Namespace& ns) { return ns.type == type; }),
                   namespaces.end());
}

std::string PauseNamespacePath(const SandboxRecord& sandbox, const std::string& type) {
  return absl::StrCat("/proc/", sandbox.pause_pid, "/ns/", type);
}

// Below a systemd slice, each process gets the scope "berth-<id>.scope", as the kubelet's
// systemd driver expects ("slice:prefix:name"); below a cgroupfs path, a folder named by id.
std::string CgroupPath(const SandboxRecord& sandbox, const std::string& id) {
  if (runtime::IsSystemdCgroupsPath(sandbox.cgroup_parent)) {
    return absl::StrCat(sandbox.cgroup_parent, ":berth:", id);
  }
  return JoinPath(sandbox.cgroup_parent, id);
}

absl::Status ApplyMounts(runtime::Spec& spec, const ::runtime::v1::ContainerConfig& config) {
  for (const auto& mount : config.mounts()) {
    if (mount.container_path().empty() || mount.container_path().front() != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "mounts.container_path \"", mount.container_path(), "\" must be an absolute path"));
    }
    if (mount.host_path().empty() || mount.host_path().front() != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "mounts.host_path \"", mount.host_path(), "\" must be an absolute path"));
    }
    if (!PathExists(mount.host_path())) {
      // The kubelet's hostPath volumes of the default type expect the runtime to create a
      // missing source as a directory, as containerd and CRI-O do.
      absl::Status created = MakeDirs(mount.host_path(), 0755);
      if (!created.ok()) {
        return Annotate(created, absl::StrCat("create mounts.host_path for ", mount.container_path()));
      }
    }
    runtime::Mount entry{mount.container_path(), "bind", mount.host_path(), {"rbind"}};
    entry.options.push_back(mount.readonly() ? "ro" : "rw");
    // An idmapped mount, with the pod's mappings; ApplyPodUserns checks that they are.
    if (mount.uidmappings_size() > 0 || mount.gidmappings_size() > 0) {
      entry.options.push_back("idmap");
    }
    switch (mount.propagation()) {
      case ::runtime::v1::PROPAGATION_HOST_TO_CONTAINER:
        entry.options.push_back("rslave");
        break;
      case ::runtime::v1::PROPAGATION_BIDIRECTIONAL:
        entry.options.push_back("rshared");
        break;
      default:
        entry.options.push_back("rprivate");
        break;
    }
    // A CRI mount replaces a default mount at the same destination.
    std::erase_if(spec.mounts, [&](const runtime::Mount& m) {
      return m.destination == entry.destination;
    });
    spec.mounts.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

void AddPodFileMounts(runtime::Spec& spec, const SandboxPaths& paths,
                      const ::runtime::v1::ContainerConfig& config) {
  auto overridden = [&](const std::string& destination) {
    for (const auto& mount : config.mounts()) {
      if (mount.container_path() == destination) return true;
    }
    return false;
  };
  const std::pair<std::string, std::string> files[] = {
      {"/etc/hosts", paths.hosts},
      {"/etc/resolv.conf", paths.resolv_conf},
      {"/etc/hostname", paths.hostname},
  };
  for (const auto& [destination, source] : files) {
    if (source.empty() || overridden(destination)) continue;
    spec.mounts.push_back({destination, "bind", source, {"rbind", "rprivate", "rw"}});
  }
}

absl::Status ApplyUser(runtime::Spec& spec, const ::runtime::v1::LinuxContainerSecurityContext& sc,
                       const ImageDefaults& image) {
  BERTH_ASSIGN_OR_RETURN(spec.process.user, ContainerUser(sc, image.user, image.layer_dirs));
  return absl::OkStatus();
}

void ApplyResources(runtime::Spec& spec, const ::runtime::v1::LinuxContainerResources& resources) {
  spec.linux.resources = ResourcesFromCri(resources);
  spec.process.oom_score_adj = OomScoreAdjFromCri(resources);
}

}  // namespace

std::string PodHostname(const ::runtime::v1::PodSandboxConfig& config) {
  if (config.linux().security_context().namespace_options().network() == ::runtime::v1::NODE) {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof(name) - 1) == 0) return name;
  }
  return config.hostname().empty() ? config.metadata().name() : config.hostname();
}

runtime::Spec BuildPauseSpec(const SandboxRecord& sandbox, const std::string& rootfs,
                             const std::string& pause_binary) {
  runtime::Spec spec = runtime::BaseSpec();
  spec.process.args = {"/pause"};
  spec.root = {rootfs, true};
  spec.hostname = PodHostname(sandbox.config);
  spec.mounts.push_back({"/pause", "bind", pause_binary, {"rbind", "ro", "rprivate"}});
  spec.linux.cgroups_path = CgroupPath(sandbox, sandbox.id);
  spec.annotations["io.kubernetes.cri.container-type"] = "sandbox";
  spec.annotations["io.kubernetes.cri.sandbox-id"] = sandbox.id;

  for (const auto& [key, value] : sandbox.config.linux().sysctls()) spec.linux.sysctl[key] = value;

  const auto& options = SandboxNamespaces(sandbox);
  if (sandbox.netns_path.empty()) {
    // A host-network pod uses the node's hostname too, so it shares the host's UTS namespace.
    DropNamespace(spec, "network");
    DropNamespace(spec, "uts");
    spec.hostname.clear();
  } else {
    SetNamespace(spec, "network", sandbox.netns_path);
  }
  if (options.ipc() == ::runtime::v1::NODE) DropNamespace(spec, "ipc");
  if (options.pid() == ::runtime::v1::NODE) DropNamespace(spec, "pid");
  return spec;
}

absl::StatusOr<runtime::Spec> BuildContainerSpec(const std::string& container_id,
                                                 const ::runtime::v1::ContainerConfig& config,
                                                 const SandboxRecord& sandbox,
                                                 const SandboxPaths& sandbox_paths,
                                                 const ImageDefaults& image,
                                                 const std::string& rootfs) {
  runtime::Spec spec = runtime::BaseSpec();

  std::vector<std::string> command(config.command().begin(), config.command().end());
  std::vector<std::string> args(config.args().begin(), config.args().end());
  auto argv = MergeArgs(image.entrypoint, image.cmd, command, args);
  if (!argv.ok()) return argv.status();
  spec.process.args = *std::move(argv);

  std::vector<std::pair<std::string, std::string>> envs;
  for (const auto& kv : config.envs()) envs.emplace_back(kv.key(), kv.value());
  std::vector<std::string> image_env = image.env;
  bool has_path = std::any_of(image_env.begin(), image_env.end(),
                              [](const std::string& e) { return e.rfind("PATH=", 0) == 0; });
  if (!has_path) image_env.insert(image_env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  spec.process.env = MergeEnv(image_env, envs);
  spec.process.cwd = MergeWorkingDir(image.working_dir, config.working_dir());

  const auto& sc = config.linux().security_context();
  BERTH_RETURN_IF_ERROR(ApplyUser(spec, sc, image));
  BERTH_RETURN_IF_ERROR(ApplyContainerSecurity(spec, config, sandbox));
  ApplyResources(spec, config.linux().resources());

  spec.root = {rootfs, sc.readonly_rootfs()};
  spec.hostname.clear();  // the UTS namespace, and so the hostname, is the pause's
  AddPodFileMounts(spec, sandbox_paths, config);
  BERTH_RETURN_IF_ERROR(ApplyMounts(spec, config));

  for (const auto& [key, value] : sandbox.config.linux().sysctls()) spec.linux.sysctl[key] = value;

  const auto& pod_options = SandboxNamespaces(sandbox);
  if (sandbox.netns_path.empty()) {
    DropNamespace(spec, "network");
  } else {
    SetNamespace(spec, "network", sandbox.netns_path);
  }
  if (pod_options.ipc() == ::runtime::v1::NODE) {
    DropNamespace(spec, "ipc");
  } else {
    SetNamespace(spec, "ipc", PauseNamespacePath(sandbox, "ipc"));
  }
  if (sandbox.netns_path.empty()) {
    DropNamespace(spec, "uts");
  } else {
    SetNamespace(spec, "uts", PauseNamespacePath(sandbox, "uts"));
  }
  switch (sc.namespace_options().pid()) {
    case ::runtime::v1::NODE:
      DropNamespace(spec, "pid");
      break;
    case ::runtime::v1::POD:
      SetNamespace(spec, "pid", PauseNamespacePath(sandbox, "pid"));
      break;
    case ::runtime::v1::TARGET:
      break;  // PodManager sets the target container's namespace path: the builder has no pid
    default:
      break;  // CONTAINER: a new PID namespace, as in the base spec
  }

  spec.linux.cgroups_path = CgroupPath(sandbox, container_id);
  spec.annotations["io.kubernetes.cri.container-type"] = "container";
  spec.annotations["io.kubernetes.cri.container-name"] = config.metadata().name();
  spec.annotations["io.kubernetes.cri.sandbox-id"] = sandbox.id;
  return spec;
}

runtime::Mount BuildRootfsOverlay(const std::vector<std::string>& layer_dirs,
                                  const std::string& upper_dir, const std::string& work_dir) {
  std::vector<std::string> lower(layer_dirs.rbegin(), layer_dirs.rend());
  return runtime::Mount{"/", "overlay", "overlay",
                        {absl::StrCat("lowerdir=", absl::StrJoin(lower, ":")),
                         absl::StrCat("upperdir=", upper_dir),
                         absl::StrCat("workdir=", work_dir)}};
}

}  // namespace berth::pod
