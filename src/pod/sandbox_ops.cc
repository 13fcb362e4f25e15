// PodManager: the sandbox operations.
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/id.h"
#include "base/log.h"
#include "base/status.h"
#include "network/netns.h"
#include "network/pod_files.h"
#include "network/userns.h"
#include "pod/pod_cgroup.h"
#include "pod/pod_manager.h"
#include "pod/sandbox_network.h"
#include "pod/security_spec.h"
#include "pod/spec_builder.h"
#include "pod/userns_spec.h"
#include "runtime/linux/cgroups_systemd.h"

namespace berth::pod {
namespace {

constexpr absl::Duration kPauseStopTimeout = absl::Seconds(10);

// The host's files a pod on the host network sees.
constexpr char kHostResolvConf[] = "/etc/resolv.conf";
constexpr char kHostHosts[] = "/etc/hosts";

auto Log() { return Logger("pod"); }

}  // namespace

absl::StatusOr<std::string> PodManager::RunPodSandbox(const ::runtime::v1::PodSandboxConfig& config,
                                                      const std::string& runtime_handler) {
  if (!config.hostname().empty()) BERTH_RETURN_IF_ERROR(network::ValidateHostname(config.hostname()));

  SandboxRecord record;
  record.id = NewId();
  record.config = config;
  record.runtime_handler = runtime_handler;
  record.created_at = NowNanos();
  record.dir = JoinPath(JoinPath(options_.root, "sandboxes"), record.id);
  CleanupStack cleanup;

  std::string name = SandboxName(config.metadata());
  BERTH_RETURN_IF_ERROR(Annotate(names_.Reserve(name, record.id), "pod sandbox"));
  cleanup.Push("release name " + name, [this, name, id = record.id] {
    names_.Release(name, id);
    return absl::OkStatus();
  });

  BERTH_ASSIGN_OR_RETURN(std::optional<PodUserns> userns,
                         PodUsernsOf(config.linux().security_context().namespace_options()));
  BERTH_RETURN_IF_ERROR(MakeDirs(JoinPath(record.dir, "rootfs"), 0755));
  cleanup.Push("remove " + record.dir, [dir = record.dir] { return RemoveAll(dir); });

  if (!UsesHostNetwork(config)) {
    std::string netns_dir = JoinPath(options_.state, "netns");
    BERTH_RETURN_IF_ERROR(MakeDirs(netns_dir, 0755));
    record.netns_path = JoinPath(netns_dir, record.id);
    if (userns) {
      BERTH_RETURN_IF_ERROR(MakePodUserns(record, *userns, cleanup));
    } else {
      BERTH_RETURN_IF_ERROR(network::CreatePinnedNetns(record.netns_path));
    }
    cleanup.Push("remove netns " + record.netns_path,
                 [path = record.netns_path] { return network::RemovePinnedNetns(path); });
    BERTH_RETURN_IF_ERROR(SetUpPodNetwork(record, cleanup));
  }

  std::string hostname = PodHostname(config);
  auto files = network::WritePodFiles(record.dir, hostname, DnsOf(config), record.ip,
                                      kHostResolvConf,
                                      UsesHostNetwork(config) ? kHostHosts : std::string());
  if (!files.ok()) return Annotate(files.status(), "write pod files");

  BERTH_RETURN_IF_ERROR(MakeSandboxCgroupParent(record));
  if (record.owns_cgroup_parent) {
    cleanup.Push("remove cgroup " + record.cgroup_parent,
                 [path = record.cgroup_parent] { return RemovePodCgroup(path); });
  }

  BERTH_RETURN_IF_ERROR(StartPause(record));
  cleanup.Push("remove pause of " + record.id, [this, record] {
    (void)StopPause(record);
    return runtime_->Delete(record.id);
  });

  record.state = SandboxState::kReady;
  BERTH_RETURN_IF_ERROR(SaveSandbox(record));
  cleanup.Disarm();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sandboxes_[record.id] = record;
  }
  Log()->info("sandbox ready pod={} name={} pause_pid={} netns={}", record.id, name,
              record.pause_pid, record.netns_path);
  return record.id;
}

absl::Status PodManager::MakePodUserns(SandboxRecord& record, const PodUserns& userns,
                                       CleanupStack& cleanup) {
  std::string dir = JoinPath(options_.state, "userns");
  BERTH_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  record.userns_path = JoinPath(dir, record.id);
  std::string uid_map = IdMapText(userns.uids);
  BERTH_RETURN_IF_ERROR(network::CreatePinnedUserns(record.userns_path, record.netns_path, uid_map,
                                                    IdMapText(userns.gids)));
  cleanup.Push("remove userns " + record.userns_path,
               [path = record.userns_path] { return network::RemovePinnedUserns(path); });
  // The pause's root directory must belong to the namespace's root, which makes mount points in
  // it. The host's root is unmapped there, so it could not.
  std::string rootfs = JoinPath(record.dir, "rootfs");
  if (::chown(rootfs.c_str(), *runtime::MapToHost(userns.uids, 0),
              *runtime::MapToHost(userns.gids, 0)) != 0) {
    return ErrnoError(errno, "chown", rootfs);
  }
  uid_map.pop_back();  // the last line break
  Log()->info("user namespace made pod={} uid_map=\"{}\" path={} ownership={}", record.id,
              absl::StrReplaceAll(uid_map, {{"\n", ";"}}), record.userns_path,
              options_.userns_ownership);
  return absl::OkStatus();
}

absl::Status PodManager::SetUpPodNetwork(SandboxRecord& record, CleanupStack& cleanup) {
  if (options_.cni == nullptr || !options_.cni->Configured()) {
    Log()->warn("no CNI network config; the pod gets loopback only pod={}", record.id);
    return absl::OkStatus();
  }
  BERTH_ASSIGN_OR_RETURN(network::PodNetworkRequest request, PodNetworkRequestOf(record));
  // Pushed before ADD: a failed ADD undoes itself, and the record it leaves on failure to undo
  // is what this step removes.
  cleanup.Push("cni del " + record.id, [cni = options_.cni, id = record.id,
                                        netns = record.netns_path] {
    return cni->Teardown(id, netns);
  });
  BERTH_ASSIGN_OR_RETURN(network::PodNetworkResult result, options_.cni->Setup(request));
  if (!result.ips.empty()) {
    record.ip = result.ips.front();
    record.additional_ips.assign(result.ips.begin() + 1, result.ips.end());
  }
  return absl::OkStatus();
}

absl::Status PodManager::TearDownPodNetwork(const SandboxRecord& record) {
  if (options_.cni == nullptr) return absl::OkStatus();
  return options_.cni->Teardown(record.id, record.netns_path);
}

absl::Status PodManager::UpdatePodCidr(const std::string& cidr) {
  if (options_.cni == nullptr) return absl::OkStatus();
  return options_.cni->SetPodCidr(cidr);
}

std::string PodManager::DefaultPodCgroup(const std::string& id) const {
  const std::string& base = options_.default_cgroup_parent;
  if (runtime::IsSystemdCgroupsPath(base)) {
    // "berth.slice" gives "berth-<id>.slice", a child slice by systemd's naming.
    return absl::StrCat(base.substr(0, base.size() - 6), "-", id, ".slice");
  }
  return JoinPath(base, id);
}

absl::Status PodManager::MakeSandboxCgroupParent(SandboxRecord& record) {
  const std::string& requested = record.config.linux().cgroup_parent();
  if (requested.empty()) {
    record.cgroup_parent = DefaultPodCgroup(record.id);
    record.owns_cgroup_parent = true;
  } else {
    record.cgroup_parent = requested;
    BERTH_ASSIGN_OR_RETURN(bool exists, PodCgroupExists(requested));
    record.owns_cgroup_parent = !exists;
  }
  return CreatePodCgroup(record.cgroup_parent);
}

absl::Status PodManager::StartPause(SandboxRecord& record) {
  runtime::CreateRequest request;
  request.id = record.id;
  request.bundle_dir = record.dir;
  request.spec = BuildPauseSpec(record, JoinPath(record.dir, "rootfs"), options_.pause_binary);
  BERTH_RETURN_IF_ERROR(ApplySandboxSecurity(request.spec, record.config));
  BERTH_RETURN_IF_ERROR(ApplyPodUserns(request.spec, record, nullptr, options_.userns_ownership));
  auto created = runtime_->Create(request);
  if (!created.ok()) return Annotate(created.status(), "create pause process");
  absl::Status started = runtime_->Start(record.id);
  if (!started.ok()) {
    (void)runtime_->Kill(record.id, SIGKILL);
    (void)runtime_->Wait(record.id, kPauseStopTimeout);
    (void)runtime_->Delete(record.id);
    return Annotate(started, "start pause process");
  }
  record.pause_pid = created->pid;
  return absl::OkStatus();
}

absl::Status PodManager::StopPause(const SandboxRecord& record) {
  auto state = runtime_->State(record.id);
  if (!state.ok()) {
    if (absl::IsNotFound(state.status())) return absl::OkStatus();
    return state.status();
  }
  if (state->status == runtime::ContainerStatus::kStopped) return absl::OkStatus();
  absl::Status killed = runtime_->Kill(record.id, SIGKILL, /*all=*/true);
  if (absl::IsNotFound(killed)) return absl::OkStatus();
  if (!killed.ok()) return Annotate(killed, "kill pause");
  auto waited = runtime_->Wait(record.id, kPauseStopTimeout);
  if (absl::IsNotFound(waited.status())) return absl::OkStatus();
  if (!waited.ok()) return Annotate(waited.status(), "wait for pause");
  // An unknown state means the pause's shim is gone; Delete cleans up its cgroup.
  return absl::OkStatus();
}

absl::Status PodManager::StopPodSandbox(const std::string& id_or_prefix) {
  auto id = ResolveSandboxId(id_or_prefix);
  if (absl::IsNotFound(id.status())) return absl::OkStatus();
  if (!id.ok()) return id.status();
  BERTH_ASSIGN_OR_RETURN(SandboxRecord record, FindSandboxRecord(*id));

  for (const std::string& container_id : ContainersOf(record.id)) {
    BERTH_RETURN_IF_ERROR(StopContainer(container_id, absl::ZeroDuration()));
  }
  BERTH_RETURN_IF_ERROR(StopPause(record));
  // DEL comes before the netns goes, and a failed DEL keeps the netns, so the next stop can
  // try again with everything as it was.
  BERTH_RETURN_IF_ERROR(TearDownPodNetwork(record));
  if (!record.netns_path.empty()) {
    BERTH_RETURN_IF_ERROR(network::RemovePinnedNetns(record.netns_path));
  }
  if (!record.userns_path.empty()) {
    BERTH_RETURN_IF_ERROR(network::RemovePinnedUserns(record.userns_path));
  }
  if (record.state != SandboxState::kNotReady) {
    record.state = SandboxState::kNotReady;
    BERTH_RETURN_IF_ERROR(SaveSandbox(record));
    std::lock_guard<std::mutex> lock(mutex_);
    sandboxes_[record.id] = record;
  }
  Log()->info("sandbox stopped pod={}", record.id);
  return absl::OkStatus();
}

absl::Status PodManager::RemovePodSandbox(const std::string& id_or_prefix) {
  auto id = ResolveSandboxId(id_or_prefix);
  if (absl::IsNotFound(id.status())) return absl::OkStatus();
  if (!id.ok()) return id.status();
  {
    // From here on CreateContainer refuses to add containers to this sandbox.
    std::lock_guard<std::mutex> lock(mutex_);
    removing_.insert(*id);
  }
  absl::Cleanup forget_removing = [this, id = *id] {
    std::lock_guard<std::mutex> lock(mutex_);
    removing_.erase(id);
  };
  BERTH_RETURN_IF_ERROR(StopPodSandbox(*id));
  BERTH_ASSIGN_OR_RETURN(SandboxRecord record, FindSandboxRecord(*id));

  for (const std::string& container_id : ContainersOf(record.id)) {
    BERTH_RETURN_IF_ERROR(RemoveContainer(container_id));
  }
  BERTH_RETURN_IF_ERROR(Annotate(runtime_->Delete(record.id), "delete pause"));
  if (record.owns_cgroup_parent) {
    BERTH_RETURN_IF_ERROR(RemovePodCgroup(record.cgroup_parent));
  }
  BERTH_RETURN_IF_ERROR(RemoveAll(record.dir));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sandboxes_.erase(record.id);
  }
  names_.Release(SandboxName(record.config.metadata()), record.id);
  Log()->info("sandbox removed pod={}", record.id);
  return absl::OkStatus();
}

absl::StatusOr<SandboxView> PodManager::GetSandbox(const std::string& id_or_prefix) {
  BERTH_ASSIGN_OR_RETURN(std::string id, ResolveSandboxId(id_or_prefix));
  BERTH_ASSIGN_OR_RETURN(SandboxRecord record, FindSandboxRecord(id));
  SandboxView view{record, false};
  if (record.state == SandboxState::kReady) {
    auto state = runtime_->State(record.id);
    view.ready = state.ok() && state->status == runtime::ContainerStatus::kRunning;
  }
  return view;
}

std::vector<SandboxView> PodManager::ListSandboxes() {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, record] : sandboxes_) ids.push_back(id);
  }
  std::vector<SandboxView> views;
  for (const std::string& id : ids) {
    auto view = GetSandbox(id);
    if (view.ok()) views.push_back(*std::move(view));
  }
  return views;
}

}  // namespace berth::pod
