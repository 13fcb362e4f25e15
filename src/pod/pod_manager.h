// The domain of pods: sandboxes and their containers, their records on disk, their names, and
// the order of the steps that make and unmake them. CRI requests arrive here already validated
// (see src/cri/). Results are records plus the live state from the runtime, which src/cri/
// turns into CRI messages.
//
// Stop and Remove operations are idempotent, as CRI requires: an unknown id is success.
// Every operation that makes several things (directories, a netns, a cgroup, a shim) undoes
// what it made when a later step fails.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/cleanup.h"
#include "image/image_store.h"
#include "network/cni_manager.h"
#include "pod/names.h"
#include "pod/records.h"
#include "pod/userns_spec.h"
#include "runtime/runtime.h"
#include "runtime/v1/api.pb.h"

namespace berth::pod {

struct PodManagerOptions {
  std::string root;          // persistent root: sandboxes/ and containers/ go below it
  std::string state;         // volatile root: netns/ goes below it
  std::string pause_binary;  // path of berth-pause on the host
  // Parent of pod cgroups when CRI gives none: a cgroupfs path, whose pods get "<parent>/<id>",
  // or a systemd slice such as "berth.slice", whose pods get the slice "berth-<id>.slice".
  std::string default_cgroup_parent = "/berth";
  // Pod networking; null, or a configuration directory without any file, gives pods a
  // loopback-only network namespace. Must outlive the manager.
  network::CniManager* cni = nullptr;
  // How image files get their owners in pods with a user namespace: "idmap" (idmapped layers,
  // falling back to chown where the kernel cannot) or "chown" (always chown).
  std::string userns_ownership = "idmap";
};

// A sandbox with its live state.
struct SandboxView {
  SandboxRecord record;
  bool ready = false;  // READY while the pause process runs and the sandbox was not stopped
};

// A container with its live state.
struct ContainerView {
  ContainerRecord record;
  runtime::ContainerState state;
};

struct ExecOutput {
  std::string stdout_data;
  std::string stderr_data;
  int exit_code = 0;
};

class PodManager {
 public:
  // Loads the records under `options.root` and reserves their names, so that a restarted
  // berthd finds its pods and containers again. `images` and `runtime` must outlive the manager.
  static absl::StatusOr<std::unique_ptr<PodManager>> Open(PodManagerOptions options,
                                                          image::ImageStore* images,
                                                          runtime::Runtime* runtime);

  // Makes a sandbox: name reservation, directory, pinned netns, pod files, pause process.
  absl::StatusOr<std::string> RunPodSandbox(const ::runtime::v1::PodSandboxConfig& config,
                                            const std::string& runtime_handler);
  // Stops every container of the sandbox and its pause process and unpins its netns.
  absl::Status StopPodSandbox(const std::string& id);
  // Stops if needed, then removes the containers, the pause, the records and directories.
  absl::Status RemovePodSandbox(const std::string& id);
  absl::StatusOr<SandboxView> GetSandbox(const std::string& id);
  // Hands the node's pod CIDR to the network plugins (UpdateRuntimeConfig).
  absl::Status UpdatePodCidr(const std::string& cidr);
  std::vector<SandboxView> ListSandboxes();

  // Makes a container, created and blocked before execve.
  absl::StatusOr<std::string> CreateContainer(const std::string& sandbox_id,
                                              const ::runtime::v1::ContainerConfig& config);
  absl::Status StartContainer(const std::string& id);
  // Sends the image's stop signal (SIGTERM by default), then SIGKILL after `timeout`.
  absl::Status StopContainer(const std::string& id, absl::Duration timeout);
  absl::Status RemoveContainer(const std::string& id);
  absl::StatusOr<ContainerView> GetContainer(const std::string& id);
  std::vector<ContainerView> ListContainers();
  // Makes the container's shim reopen its log file after the kubelet renamed it for rotation.
  // A container that is not running is FailedPrecondition.
  absl::Status ReopenContainerLog(const std::string& id);
  absl::StatusOr<ExecOutput> ExecSync(const std::string& id, const std::vector<std::string>& cmd,
                                      absl::Duration timeout);
  // Writes new limits to the cgroup of a created or running container, then stores them in its
  // spec and record, so ContainerStatus reports them. A stopped container is FailedPrecondition.
  absl::Status UpdateContainerResources(const std::string& id,
                                        const ::runtime::v1::LinuxContainerResources& resources);
  // Returns the pid namespace file (/proc/<pid>/ns/pid) of running container `target_id`, which
  // must belong to sandbox `sandbox_id`; for the TARGET pid mode.
  absl::StatusOr<std::string> TargetPidNamespace(const std::string& sandbox_id,
                                                 const std::string& target_id);

 private:
  PodManager(PodManagerOptions options, image::ImageStore* images, runtime::Runtime* runtime);

  absl::Status LoadRecords();
  // Undoes what an unfinished create or remove left for `id` under `dir`: its process and shim,
  // and for a sandbox its netns and the pod cgroup Berth made. Failures are logged.
  void SweepOrphan(const std::string& id, const std::string& dir, bool sandbox);
  // Resolve a full id or a unique id prefix; NotFound or InvalidArgument (ambiguous).
  absl::StatusOr<std::string> ResolveSandboxId(const std::string& id_or_prefix);
  absl::StatusOr<std::string> ResolveContainerId(const std::string& id_or_prefix);
  absl::Status SaveSandbox(const SandboxRecord& record);
  absl::Status SaveContainer(const ContainerRecord& record);
  absl::StatusOr<SandboxRecord> FindSandboxRecord(const std::string& id);
  absl::StatusOr<ContainerRecord> FindContainerRecord(const std::string& id);
  std::vector<std::string> ContainersOf(const std::string& sandbox_id);

  // Steps of RunPodSandbox, each undone by `cleanup` on a later failure.
  absl::Status MakeSandboxCgroupParent(SandboxRecord& record);
  // The cgroup Berth makes for pod `id` when CRI names none: below default_cgroup_parent.
  std::string DefaultPodCgroup(const std::string& id) const;
  absl::Status StartPause(SandboxRecord& record);
  // CNI ADD into the sandbox's netns; fills the record's addresses and pushes the DEL.
  absl::Status SetUpPodNetwork(SandboxRecord& record, CleanupStack& cleanup);
  // Makes the pod's pinned user namespace and, owned by it, its network namespace.
  absl::Status MakePodUserns(SandboxRecord& record, const PodUserns& userns,
                             CleanupStack& cleanup);
  // CNI DEL of the sandbox; idempotent.
  absl::Status TearDownPodNetwork(const SandboxRecord& record);
  // Kill the pause and wait for it to stop.
  absl::Status StopPause(const SandboxRecord& record);
  int StopSignalOf(const ContainerRecord& record);

  PodManagerOptions options_;
  image::ImageStore* images_;
  runtime::Runtime* runtime_;
  NameRegistry names_;

  std::mutex mutex_;  // guards the two maps below
  std::map<std::string, SandboxRecord> sandboxes_;
  std::map<std::string, ContainerRecord> containers_;
  std::set<std::string> removing_;  // sandboxes RemovePodSandbox is working on
  // TODO: operations on one sandbox or container are not serialised; concurrent calls on the
  // same id rely on the runtime's idempotent Kill, Wait and Delete.
};

}  // namespace berth::pod
