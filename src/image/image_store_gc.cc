// ImageStore: removal of names and images, users that hold images, pinning, garbage collection
// and disk use.
#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/fs_usage.h"
#include "image/image_store.h"
#include "image/manifest.h"
#include "image/reference.h"

namespace berth::image {
namespace {

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// True when `name` ("repository:tag" or "repository@digest") belongs to `repository`.
bool OfRepository(const std::string& name, const std::string& repository) {
  return name.size() > repository.size() && name.starts_with(repository) &&
         (name[repository.size()] == ':' || name[repository.size()] == '@');
}

bool AnyOfRepository(const std::vector<std::string>& names, const std::string& repository) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& name) { return OfRepository(name, repository); });
}

void EraseOfRepository(std::vector<std::string>& names, const std::string& repository) {
  std::erase_if(names, [&](const std::string& name) { return OfRepository(name, repository); });
}

// True when reference `ref` names `record` by tag or by digest.
bool Names(const Reference& ref, const ImageRecord& record) {
  if (ref.digest.empty()) return Contains(record.repo_tags, ref.TagRef());
  if (Contains(record.repo_digests, ref.DigestRef(ref.digest))) return true;
  std::string repository = ref.Repository();
  return record.manifest_digest == ref.digest &&
         (AnyOfRepository(record.repo_tags, repository) ||
          AnyOfRepository(record.repo_digests, repository));
}

}  // namespace

bool ImageStore::IsPinned(const ImageRecord& record) const {
  for (const std::string& pinned : options_.pinned_images) {
    auto ref = ParseReference(pinned);
    if (ref.ok() && Names(*ref, record)) return true;
  }
  return false;
}

absl::StatusOr<bool> ImageStore::RemoveName(const std::string& ref_or_id, ImageRecord& record) {
  // A full id or an id prefix removes the whole image. A text that parses as a reference is a
  // name only if it names this record; "abc123" may be an id prefix and a reference at once.
  if (ref_or_id.starts_with(kSha256Prefix) && records_.contains(ref_or_id)) return true;
  auto ref = ParseReference(ref_or_id);
  if (!ref.ok() || !Names(*ref, record)) return true;

  std::string repository = ref->Repository();
  if (ref->digest.empty()) {
    std::erase(record.repo_tags, ref->TagRef());
    // A digest reference only records where the tags came from, so it goes with the last tag
    // of its repository.
    if (!AnyOfRepository(record.repo_tags, repository)) {
      EraseOfRepository(record.repo_digests, repository);
    }
  } else {
    EraseOfRepository(record.repo_digests, repository);
  }
  return record.repo_tags.empty() && record.repo_digests.empty();
}

absl::Status ImageStore::CheckRemovable(const ImageRecord& record) const {
  std::vector<std::string> users;
  for (const auto& [user, held] : users_) {
    if (held.image_id == record.id) users.push_back(user);
  }
  if (users.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("image ", record.id, " is in use by container ", users.front(),
                   users.size() > 1 ? absl::StrCat(" and ", users.size() - 1, " more") : "",
                   "; remove the containers first"));
}

absl::Status ImageStore::DeleteRecord(const std::string& id) {
  std::string path = RecordPath(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "unlink", path);
  records_.erase(id);
  return absl::OkStatus();
}

absl::Status ImageStore::Remove(const std::string& ref_or_id) {
  std::string id;
  {
    std::lock_guard<std::mutex> lock(records_mutex_);
    BERTH_ASSIGN_OR_RETURN(const ImageRecord* found, FindLocked(ref_or_id));
    id = found->id;
    ImageRecord after = *found;
    BERTH_ASSIGN_OR_RETURN(bool whole, RemoveName(ref_or_id, after));
    if (IsPinned(*found) && (whole || !IsPinned(after))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "image ", id, " is pinned by the configuration (",
          absl::StrJoin(options_.pinned_images, ", "), ") and cannot be removed"));
    }
    if (!whole) {
      BERTH_RETURN_IF_ERROR(WriteJsonFileAtomic(RecordPath(id), ImageRecordToJson(after), 0600));
      records_[id] = std::move(after);
      Log()->info("image name removed image={} id={}", ref_or_id, id);
      return absl::OkStatus();
    }
    BERTH_RETURN_IF_ERROR(CheckRemovable(*found));
    BERTH_RETURN_IF_ERROR(DeleteRecord(id));
  }
  Log()->info("image removed image={} id={}", ref_or_id, id);

  // Running pulls hold gc_mutex_ shared: collection waits until what they fetched is recorded.
  std::unique_lock<std::shared_mutex> gc_lock(gc_mutex_);
  absl::Status collected = CollectGarbage();
  return Annotate(collected,
                  absl::StrCat("image ", id, " removed, but deleting unused data failed"));
}

absl::Status ImageStore::Use(const std::string& user, const std::string& image_id) {
  std::lock_guard<std::mutex> lock(records_mutex_);
  auto it = records_.find(image_id);
  if (it == records_.end()) {
    return absl::NotFoundError(absl::StrCat("image ", image_id, " not found; it may have been removed meanwhile"));
  }
  users_[user] = Held{image_id, it->second.chain_ids};
  return absl::OkStatus();
}

void ImageStore::Release(const std::string& user) {
  std::lock_guard<std::mutex> lock(records_mutex_);
  users_.erase(user);
}

std::vector<std::string> ImageStore::UsersOf(const std::string& image_id) const {
  std::lock_guard<std::mutex> lock(records_mutex_);
  std::vector<std::string> users;
  for (const auto& [user, held] : users_) {
    if (held.image_id == image_id) users.push_back(user);
  }
  return users;
}

absl::StatusOr<std::string> ImageStore::ConfigBlob(const ImageRecord& record) const {
  return content_.Read(record.id, kMaxManifestBytes);
}

absl::Status ImageStore::CollectGarbage() {
  std::set<std::string> chain_ids;
  std::set<std::string> blobs;
  {
    std::lock_guard<std::mutex> lock(records_mutex_);
    for (const auto& [id, record] : records_) {
      chain_ids.insert(record.chain_ids.begin(), record.chain_ids.end());
      for (const std::string& digest : record.BlobDigests()) blobs.insert(digest);
    }
    for (const auto& [user, held] : users_) {
      chain_ids.insert(held.chain_ids.begin(), held.chain_ids.end());
    }
  }

  absl::Status result;
  int snapshots_removed = 0;
  for (const Snapshot& snapshot : snapshots_.List()) {
    if (chain_ids.contains(snapshot.chain_id)) continue;
    absl::Status removed = snapshots_.Remove(snapshot.chain_id);
    if (removed.ok()) {
      ++snapshots_removed;
    } else if (result.ok()) {
      result = removed;
    }
  }

  int blobs_removed = 0;
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> stored, content_.List());
  for (const std::string& digest : stored) {
    if (blobs.contains(digest)) continue;
    absl::Status removed = content_.Delete(digest);
    if (removed.ok()) {
      ++blobs_removed;
    } else if (result.ok()) {
      result = removed;
    }
  }
  Log()->info("garbage collected snapshots={} blobs={}", snapshots_removed, blobs_removed);
  return result;
}

absl::StatusOr<FsUsage> ImageStore::Usage() const {
  FsUsage usage;
  usage.timestamp = NowNanos();
  usage.mountpoint = root_;
  for (const char* dir : {"content", "snapshots", "images"}) {
    BERTH_ASSIGN_OR_RETURN(TreeUsage tree, MeasureTree(JoinPath(root_, dir)));
    usage.used_bytes += tree.bytes;
    usage.inodes_used += tree.inodes;
  }
  return usage;
}

}  // namespace berth::image
