// PodManager: loading, lookup and persistence of records.
#include "pod/pod_manager.h"

#include <dirent.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "network/netns.h"
#include "network/userns.h"
#include "pod/pod_cgroup.h"

namespace berth::pod {
namespace {

constexpr const char* kSandboxFile = "sandbox.json";
constexpr const char* kContainerFile = "container.json";

auto Log() { return Logger("pod"); }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (struct dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(handle);
  return names;
}

// Returns the one key of `map` that starts with `prefix`: the exact key when present, else the
// only key with that prefix. None is NotFound, several are InvalidArgument.
template <typename Map>
absl::StatusOr<std::string> ResolvePrefix(const Map& map, const std::string& prefix,
                                          const std::string& what) {
  if (prefix.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " id is empty"));
  if (map.count(prefix) > 0) return prefix;
  std::string found;
  for (auto it = map.lower_bound(prefix); it != map.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (!found.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " id prefix \"", prefix, "\" is ambiguous"));
    }
    found = it->first;
  }
  if (found.empty()) return absl::NotFoundError(absl::StrCat(what, " \"", prefix, "\" not found"));
  return found;
}

}  // namespace

PodManager::PodManager(PodManagerOptions options, image::ImageStore* images,
                       runtime::Runtime* runtime)
    : options_(std::move(options)), images_(images), runtime_(runtime) {}

absl::StatusOr<std::unique_ptr<PodManager>> PodManager::Open(PodManagerOptions options,
                                                             image::ImageStore* images,
                                                             runtime::Runtime* runtime) {
  std::unique_ptr<PodManager> manager(new PodManager(std::move(options), images, runtime));
  BERTH_RETURN_IF_ERROR(manager->LoadRecords());
  return manager;
}

absl::Status PodManager::LoadRecords() {
  std::string sandboxes_dir = JoinPath(options_.root, "sandboxes");
  std::string containers_dir = JoinPath(options_.root, "containers");
  BERTH_RETURN_IF_ERROR(MakeDirs(sandboxes_dir, 0711));
  BERTH_RETURN_IF_ERROR(MakeDirs(containers_dir, 0711));

  for (const std::string& id : ListDir(sandboxes_dir)) {
    std::string path = JoinPath(JoinPath(sandboxes_dir, id), kSandboxFile);
    auto json = ReadJsonFile(path);
    auto record = json.ok() ? SandboxFromJson(*json) : json.status();
    if (!record.ok()) {
      // The record is written last by RunPodSandbox and its file goes first when a removal
      // deletes the directory, so this is a create or remove that berthd did not finish.
      Log()->warn("removing sandbox without a valid record pod={} error=\"{}\"", id,
                  record.status().ToString());
      SweepOrphan(id, JoinPath(sandboxes_dir, id), /*sandbox=*/true);
      continue;
    }
    (void)names_.Reserve(SandboxName(record->config.metadata()), record->id);
    sandboxes_[record->id] = *std::move(record);
  }
  for (const std::string& id : ListDir(containers_dir)) {
    std::string path = JoinPath(JoinPath(containers_dir, id), kContainerFile);
    auto json = ReadJsonFile(path);
    auto record = json.ok() ? ContainerFromJson(*json) : json.status();
    if (!record.ok()) {
      Log()->warn("removing container without a valid record container={} error=\"{}\"", id,
                  record.status().ToString());
      SweepOrphan(id, JoinPath(containers_dir, id), /*sandbox=*/false);
      continue;
    }
    auto sandbox = sandboxes_.find(record->sandbox_id);
    if (sandbox != sandboxes_.end()) {
      (void)names_.Reserve(ContainerName(record->config.metadata(), sandbox->second.config.metadata()),
                           record->id);
    }
    if (absl::Status held = images_->Use(record->id, record->image_id); !held.ok()) {
      Log()->warn("container image not held container={} image={} error=\"{}\"", record->id,
                  record->image_id, held.ToString());
    }
    containers_[record->id] = *std::move(record);
  }
  Log()->info("records loaded sandboxes={} containers={}", sandboxes_.size(), containers_.size());
  return absl::OkStatus();
}

void PodManager::SweepOrphan(const std::string& id, const std::string& dir, bool sandbox) {
  auto log_failure = [&](const char* step, const absl::Status& status) {
    if (!status.ok()) {
      Log()->warn("orphan cleanup step failed id={} step={} error=\"{}\"", id, step,
                  status.ToString());
    }
  };
  absl::Status killed = runtime_->Kill(id, SIGKILL, /*all=*/true);
  if (killed.ok()) (void)runtime_->Wait(id, absl::Seconds(10));
  log_failure("delete process", runtime_->Delete(id));
  if (sandbox) {
    std::string netns = JoinPath(JoinPath(options_.state, "netns"), id);
    if (options_.cni != nullptr) log_failure("cni del", options_.cni->Teardown(id, netns));
    log_failure("remove netns", network::RemovePinnedNetns(netns));
    std::string userns = JoinPath(JoinPath(options_.state, "userns"), id);
    log_failure("remove userns", network::RemovePinnedUserns(userns));
    // Only a pod cgroup Berth made itself has a name it can know without the record.
    std::string cgroup = DefaultPodCgroup(id);
    auto exists = PodCgroupExists(cgroup);
    if (exists.ok() && *exists) log_failure("remove pod cgroup", RemovePodCgroup(cgroup));
  }
  log_failure("remove directory", RemoveAll(dir));
}

absl::StatusOr<std::string> PodManager::ResolveSandboxId(const std::string& id_or_prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  return ResolvePrefix(sandboxes_, id_or_prefix, "pod sandbox");
}

absl::StatusOr<std::string> PodManager::ResolveContainerId(const std::string& id_or_prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  return ResolvePrefix(containers_, id_or_prefix, "container");
}

absl::StatusOr<SandboxRecord> PodManager::FindSandboxRecord(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end()) return absl::NotFoundError(absl::StrCat("pod sandbox \"", id, "\" not found"));
  return it->second;
}

absl::StatusOr<ContainerRecord> PodManager::FindContainerRecord(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return absl::NotFoundError(absl::StrCat("container \"", id, "\" not found"));
  return it->second;
}

std::vector<std::string> PodManager::ContainersOf(const std::string& sandbox_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, record] : containers_) {
    if (record.sandbox_id == sandbox_id) ids.push_back(id);
  }
  return ids;
}

absl::Status PodManager::SaveSandbox(const SandboxRecord& record) {
  return WriteJsonFileAtomic(JoinPath(record.dir, kSandboxFile), ToJson(record), 0600);
}

absl::Status PodManager::SaveContainer(const ContainerRecord& record) {
  return WriteJsonFileAtomic(JoinPath(record.dir, kContainerFile), ToJson(record), 0600);
}

}  // namespace berth::pod
