#include "image/snapshot_store.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/id.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "image/digest.h"

namespace berth::image {
namespace {

constexpr const char* kTempPrefix = "tmp-";
constexpr const char* kMetadataFile = "snapshot.json";

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

}  // namespace

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> chain_ids;
  for (const std::string& diff_id : diff_ids) {
    if (chain_ids.empty()) {
      chain_ids.push_back(diff_id);
    } else {
      chain_ids.push_back(Sha256Digest(absl::StrCat(chain_ids.back(), " ", diff_id)));
    }
  }
  return chain_ids;
}

SnapshotStore::SnapshotStore(std::string root) : root_(std::move(root)) {}

absl::StatusOr<Snapshot> SnapshotStore::ReadSnapshot(const std::string& name) const {
  Snapshot snapshot;
  snapshot.dir = JoinPath(root_, name);
  if (!absl::SimpleAtoi(name, &snapshot.number) || snapshot.number <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected entry ", snapshot.dir));
  }
  std::string path = JoinPath(snapshot.dir, kMetadataFile);
  BERTH_ASSIGN_OR_RETURN(nlohmann::json metadata, ReadJsonFile(path));
  if (!metadata.is_object() || !metadata.value("chain_id", nlohmann::json()).is_string() ||
      !metadata.value("parent", nlohmann::json()).is_string() ||
      !metadata.value("diff_id", nlohmann::json()).is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", path));
  }
  snapshot.chain_id = metadata["chain_id"].get<std::string>();
  snapshot.parent = metadata["parent"].get<std::string>();
  snapshot.diff_id = metadata["diff_id"].get<std::string>();
  BERTH_RETURN_IF_ERROR(Annotate(ValidateDigest(snapshot.chain_id), path));
  return snapshot;
}

absl::Status SnapshotStore::Load() {
  BERTH_RETURN_IF_ERROR(MakeDirs(root_, 0700));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(root_.c_str()), ::closedir);
  if (!dir) return ErrnoError(errno, "opendir", root_);

  std::lock_guard<std::mutex> lock(mutex_);
  while (struct dirent* entry = ::readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (name.starts_with(kTempPrefix)) {
      absl::Status removed = RemoveAll(JoinPath(root_, name));
      if (!removed.ok()) {
        Log()->warn("cannot delete leftover snapshot dir error=\"{}\"", removed.ToString());
      }
      continue;
    }
    auto snapshot = ReadSnapshot(name);
    if (!snapshot.ok()) {
      Log()->warn("ignoring snapshot dir={} error=\"{}\"", JoinPath(root_, name),
                  snapshot.status().ToString());
      continue;
    }
    next_number_ = std::max(next_number_, snapshot->number + 1);
    by_chain_id_[snapshot->chain_id] = *std::move(snapshot);
  }
  return absl::OkStatus();
}

std::optional<Snapshot> SnapshotStore::Find(std::string_view chain_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_chain_id_.find(chain_id);
  if (it == by_chain_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<Snapshot> SnapshotStore::List() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Snapshot> snapshots;
  for (const auto& [chain_id, snapshot] : by_chain_id_) snapshots.push_back(snapshot);
  return snapshots;
}

absl::StatusOr<Snapshot> SnapshotStore::Create(const std::string& chain_id,
                                               const std::string& parent,
                                               const std::string& diff_id,
                                               const FillFunction& fill) {
  KeyedMutex::Lock creating(creating_, chain_id);
  if (auto existing = Find(chain_id)) return *existing;

  // Unpack into a temporary directory; Load() deletes it if the process dies first.
  std::string temp = JoinPath(root_, absl::StrCat(kTempPrefix, NewId()));
  BERTH_RETURN_IF_ERROR(MakeDirs(temp, 0700));
  absl::Status filled = MakeDirs(JoinPath(temp, "fs"), 0755);
  if (filled.ok()) filled = fill(JoinPath(temp, "fs"));
  if (filled.ok()) {
    nlohmann::json metadata = {{"chain_id", chain_id}, {"parent", parent}, {"diff_id", diff_id}};
    filled = Annotate(WriteJsonFileAtomic(JoinPath(temp, kMetadataFile), metadata, 0600),
                      absl::StrCat("record snapshot of layer ", diff_id));
  }
  if (!filled.ok()) {
    (void)RemoveAll(temp);
    return filled;
  }

  std::lock_guard<std::mutex> lock(mutex_);
  Snapshot snapshot{next_number_++, chain_id, parent, diff_id, ""};
  snapshot.dir = JoinPath(root_, absl::StrCat(snapshot.number));
  if (::rename(temp.c_str(), snapshot.dir.c_str()) != 0) {
    absl::Status renamed = ErrnoError(errno, "rename", snapshot.dir);
    (void)RemoveAll(temp);
    return renamed;
  }
  by_chain_id_[chain_id] = snapshot;
  return snapshot;
}

absl::Status SnapshotStore::Remove(std::string_view chain_id) {
  std::string doomed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_chain_id_.find(chain_id);
    if (it == by_chain_id_.end()) return absl::OkStatus();
    doomed = JoinPath(root_, absl::StrCat(kTempPrefix, "removed-", it->second.number));
    if (::rename(it->second.dir.c_str(), doomed.c_str()) != 0) {
      return ErrnoError(errno, "rename", it->second.dir);
    }
    by_chain_id_.erase(it);
  }
  return RemoveAll(doomed);
}

}  // namespace berth::image
