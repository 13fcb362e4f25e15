// PodManager: the container operations.
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/id.h"
#include "base/log.h"
#include "base/status.h"
#include "pod/pod_manager.h"
#include "pod/signals.h"
#include "pod/spec_builder.h"
#include "pod/userns_spec.h"

namespace berth::pod {
namespace {

constexpr absl::Duration kKillWait = absl::Seconds(10);

auto Log() { return Logger("pod"); }

ImageDefaults DefaultsOf(const image::ImageRecord& image) {
  ImageDefaults defaults;
  defaults.entrypoint = image.config.entrypoint;
  defaults.cmd = image.config.cmd;
  defaults.env = image.config.env;
  defaults.working_dir = image.config.working_dir;
  defaults.user = image.config.user;
  defaults.layer_dirs = image.LayerDirs();
  return defaults;
}

SandboxPaths PathsOf(const SandboxRecord& sandbox) {
  return {JoinPath(sandbox.dir, "resolv.conf"), JoinPath(sandbox.dir, "hostname"),
          JoinPath(sandbox.dir, "hosts")};
}

// The CRI log file is log_directory (of the sandbox) joined with log_path (of the container);
// with either missing, the container's output is not kept.
std::string LogPathOf(const SandboxRecord& sandbox, const ::runtime::v1::ContainerConfig& config) {
  if (sandbox.config.log_directory().empty() || config.log_path().empty()) return "";
  return JoinPath(sandbox.config.log_directory(), config.log_path());
}

std::string ParentDir(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::string> PodManager::CreateContainer(
    const std::string& sandbox_id_or_prefix, const ::runtime::v1::ContainerConfig& config) {
  BERTH_ASSIGN_OR_RETURN(std::string sandbox_id, ResolveSandboxId(sandbox_id_or_prefix));
  BERTH_ASSIGN_OR_RETURN(SandboxView sandbox, GetSandbox(sandbox_id));
  if (!sandbox.ready) {
    return absl::FailedPreconditionError(
        absl::StrCat("pod sandbox ", sandbox_id, " is not ready"));
  }
  auto image = images_->Find(config.image().image());
  if (absl::IsNotFound(image.status())) {
    return absl::NotFoundError(absl::StrCat("image \"", config.image().image(),
                                            "\" not found: pull it before creating the container"));
  }
  if (!image.ok()) return image.status();

  ContainerRecord record;
  record.id = NewId();
  record.sandbox_id = sandbox_id;
  record.config = config;
  record.image_ref = config.image().image();
  record.image_id = image->id;
  record.created_at = NowNanos();
  record.dir = JoinPath(JoinPath(options_.root, "containers"), record.id);
  record.log_path = LogPathOf(sandbox.record, config);
  CleanupStack cleanup;

  std::string name = ContainerName(config.metadata(), sandbox.record.config.metadata());
  BERTH_RETURN_IF_ERROR(Annotate(names_.Reserve(name, record.id), "container"));
  cleanup.Push("release name " + name, [this, name, id = record.id] {
    names_.Release(name, id);
    return absl::OkStatus();
  });
  // Holding the image keeps its layers, the overlay's lower directories, from being removed.
  BERTH_RETURN_IF_ERROR(Annotate(images_->Use(record.id, image->id), "container image"));
  cleanup.Push("release image " + image->id, [this, id = record.id] {
    images_->Release(id);
    return absl::OkStatus();
  });

  std::string rootfs = JoinPath(record.dir, "rootfs");
  std::string upper = JoinPath(record.dir, "upper");
  std::string work = JoinPath(record.dir, "work");
  for (const std::string& dir : {rootfs, upper, work}) BERTH_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  cleanup.Push("remove " + record.dir, [dir = record.dir] { return RemoveAll(dir); });
  if (!record.log_path.empty()) BERTH_RETURN_IF_ERROR(MakeDirs(ParentDir(record.log_path), 0755));

  ImageDefaults defaults = DefaultsOf(*image);
  BERTH_ASSIGN_OR_RETURN(runtime::Spec spec,
                         BuildContainerSpec(record.id, config, sandbox.record,
                                            PathsOf(sandbox.record), defaults, rootfs));
  BERTH_RETURN_IF_ERROR(ApplyPodUserns(spec, sandbox.record, &config, options_.userns_ownership));
  const auto& namespaces = config.linux().security_context().namespace_options();
  if (namespaces.pid() == ::runtime::v1::TARGET) {
    BERTH_ASSIGN_OR_RETURN(std::string target, TargetPidNamespace(sandbox_id, namespaces.target_id()));
    for (runtime::Namespace& ns : spec.linux.namespaces) {
      if (ns.type == "pid") ns.path = target;
    }
  }
  runtime::CreateRequest request;
  request.id = record.id;
  request.bundle_dir = record.dir;
  request.spec = std::move(spec);
  request.rootfs_mount = BuildRootfsOverlay(defaults.layer_dirs, upper, work);
  request.log_path = record.log_path;
  auto created = runtime_->Create(request);
  if (!created.ok()) return Annotate(created.status(), "create container");
  cleanup.Push("delete container " + record.id, [this, id = record.id] {
    (void)runtime_->Kill(id, SIGKILL);
    (void)runtime_->Wait(id, kKillWait);
    return runtime_->Delete(id);
  });

  BERTH_RETURN_IF_ERROR(SaveContainer(record));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (removing_.contains(sandbox_id) || !sandboxes_.contains(sandbox_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("pod sandbox ", sandbox_id, " was removed while the container was created"));
    }
    containers_[record.id] = record;
  }
  cleanup.Disarm();
  Log()->info("container created container={} pod={} name={} image={}", record.id, sandbox_id,
              name, record.image_id);
  return record.id;
}

absl::Status PodManager::StartContainer(const std::string& id_or_prefix) {
  BERTH_ASSIGN_OR_RETURN(std::string id, ResolveContainerId(id_or_prefix));
  BERTH_ASSIGN_OR_RETURN(runtime::ContainerState state, runtime_->State(id));
  if (state.status != runtime::ContainerStatus::kCreated) {
    return absl::FailedPreconditionError(absl::StrCat(
        "container ", id, " is ", runtime::StatusName(state.status), ", not created"));
  }
  BERTH_RETURN_IF_ERROR(Annotate(runtime_->Start(id), absl::StrCat("start container ", id)));
  Log()->info("container started container={}", id);
  return absl::OkStatus();
}

int PodManager::StopSignalOf(const ContainerRecord& record) {
  auto image = images_->Find(record.image_id);
  if (!image.ok() || image->config.stop_signal.empty()) return SIGTERM;
  auto signal = ParseSignal(image->config.stop_signal);
  if (!signal.ok()) {
    Log()->warn("image stop signal ignored container={} image={} error=\"{}\"", record.id,
                record.image_id, signal.status().ToString());
    return SIGTERM;
  }
  return *signal;
}

absl::Status PodManager::StopContainer(const std::string& id_or_prefix, absl::Duration timeout) {
  auto id = ResolveContainerId(id_or_prefix);
  if (absl::IsNotFound(id.status())) return absl::OkStatus();
  if (!id.ok()) return id.status();
  BERTH_ASSIGN_OR_RETURN(ContainerRecord record, FindContainerRecord(*id));
  auto state = runtime_->State(record.id);
  if (absl::IsNotFound(state.status())) return absl::OkStatus();
  if (!state.ok()) return state.status();
  if (state->status == runtime::ContainerStatus::kStopped) return absl::OkStatus();

  if (timeout > absl::ZeroDuration()) {
    int signal = StopSignalOf(record);
    absl::Status sent = runtime_->Kill(record.id, signal);
    if (!sent.ok() && !absl::IsNotFound(sent)) return Annotate(sent, "send stop signal");
    auto waited = runtime_->Wait(record.id, timeout);
    if (waited.ok() && waited->status == runtime::ContainerStatus::kStopped) {
      Log()->info("container stopped container={} signal={}", record.id, signal);
      return absl::OkStatus();
    }
    Log()->info("container ignored stop signal, killing container={} timeout={}", record.id,
                absl::FormatDuration(timeout));
  }
  // SIGKILL goes to every process of the container's cgroup: in a PID namespace shared with the
  // pod, the container's children would otherwise outlive it.
  absl::Status killed = runtime_->Kill(record.id, SIGKILL, /*all=*/true);
  if (absl::IsNotFound(killed)) return absl::OkStatus();
  if (!killed.ok()) return Annotate(killed, "send SIGKILL");
  auto waited = runtime_->Wait(record.id, kKillWait);
  if (absl::IsNotFound(waited.status())) return absl::OkStatus();
  if (!waited.ok()) return Annotate(waited.status(), absl::StrCat("wait for container ", record.id));
  if (waited->status == runtime::ContainerStatus::kUnknown) {
    // The shim is gone, so nothing records an exit. SIGKILL reached the cgroup, and Delete
    // kills whatever is left there before it removes the cgroup.
    Log()->warn("container has lost its shim; treating it as stopped container={} reason={}",
                record.id, waited->reason);
    return absl::OkStatus();
  }
  if (waited->status != runtime::ContainerStatus::kStopped) {
    return absl::DeadlineExceededError(
        absl::StrCat("container ", record.id, " still runs ", absl::FormatDuration(kKillWait),
                     " after SIGKILL"));
  }
  Log()->info("container killed container={}", record.id);
  return absl::OkStatus();
}

absl::Status PodManager::RemoveContainer(const std::string& id_or_prefix) {
  auto id = ResolveContainerId(id_or_prefix);
  if (absl::IsNotFound(id.status())) return absl::OkStatus();
  if (!id.ok()) return id.status();
  BERTH_ASSIGN_OR_RETURN(ContainerRecord record, FindContainerRecord(*id));
  BERTH_RETURN_IF_ERROR(StopContainer(record.id, absl::ZeroDuration()));
  BERTH_RETURN_IF_ERROR(Annotate(runtime_->Delete(record.id), "delete container"));
  BERTH_RETURN_IF_ERROR(RemoveAll(record.dir));
  images_->Release(record.id);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    containers_.erase(record.id);
  }
  auto sandbox = FindSandboxRecord(record.sandbox_id);
  if (sandbox.ok()) names_.Release(ContainerName(record.config.metadata(), sandbox->config.metadata()), record.id);
  Log()->info("container removed container={} pod={}", record.id, record.sandbox_id);
  return absl::OkStatus();
}

absl::StatusOr<ContainerView> PodManager::GetContainer(const std::string& id_or_prefix) {
  BERTH_ASSIGN_OR_RETURN(std::string id, ResolveContainerId(id_or_prefix));
  BERTH_ASSIGN_OR_RETURN(ContainerRecord record, FindContainerRecord(id));
  ContainerView view{record, {}};
  auto state = runtime_->State(id);
  if (state.ok()) {
    view.state = *std::move(state);
  } else if (absl::IsNotFound(state.status()) && !FindContainerRecord(id).ok()) {
    // RemoveContainer ran between the lookup of the record and the state.
    return absl::NotFoundError(absl::StrCat("container \"", id, "\" not found"));
  } else {
    Log()->warn("container state unknown container={} error=\"{}\"", id, state.status().ToString());
    view.state.id = id;
    view.state.status = runtime::ContainerStatus::kUnknown;
  }
  return view;
}

std::vector<ContainerView> PodManager::ListContainers() {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, record] : containers_) ids.push_back(id);
  }
  std::vector<ContainerView> views;
  for (const std::string& id : ids) {
    auto view = GetContainer(id);
    if (view.ok()) views.push_back(*std::move(view));
  }
  return views;
}

absl::Status PodManager::ReopenContainerLog(const std::string& id_or_prefix) {
  BERTH_ASSIGN_OR_RETURN(std::string id, ResolveContainerId(id_or_prefix));
  BERTH_ASSIGN_OR_RETURN(runtime::ContainerState state, runtime_->State(id));
  if (state.status != runtime::ContainerStatus::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", id, " is ", runtime::StatusName(state.status), ", not running"));
  }
  BERTH_RETURN_IF_ERROR(Annotate(runtime_->ReopenLog(id), absl::StrCat("reopen log of ", id)));
  Log()->info("container log reopened container={}", id);
  return absl::OkStatus();
}

absl::StatusOr<ExecOutput> PodManager::ExecSync(const std::string& id_or_prefix,
                                                const std::vector<std::string>& cmd,
                                                absl::Duration timeout) {
  BERTH_ASSIGN_OR_RETURN(std::string id, ResolveContainerId(id_or_prefix));
  BERTH_ASSIGN_OR_RETURN(ContainerRecord record, FindContainerRecord(id));
  BERTH_ASSIGN_OR_RETURN(runtime::ContainerState state, runtime_->State(id));
  if (state.status != runtime::ContainerStatus::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", id, " is ", runtime::StatusName(state.status), ", not running"));
  }
  BERTH_ASSIGN_OR_RETURN(runtime::Spec spec,
                         runtime::ReadSpecFile(JoinPath(record.dir, "config.json")));
  runtime::Process process = runtime::ExecProcessFor(spec.process, cmd);
  BERTH_ASSIGN_OR_RETURN(runtime::ExecResult result, runtime_->ExecSync(id, process, timeout));
  return ExecOutput{std::move(result.stdout_data), std::move(result.stderr_data), result.exit_code};
}

}  // namespace berth::pod
