#include "image/image_store.h"

#include <dirent.h>
#include <stdlib.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/platform.h"
#include "image/puller.h"
#include "image/reference.h"

namespace berth::image {
namespace {

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

constexpr const char* kRecordSuffix = ".json";

bool IsLowerHex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  if (!Contains(list, value)) list.push_back(value);
}

// True when the record has a tag or digest of repository `repository`.
bool HasRepository(const ImageRecord& record, const std::string& repository) {
  for (const auto* names : {&record.repo_tags, &record.repo_digests}) {
    for (const std::string& name : *names) {
      if (name.starts_with(repository) && name.size() > repository.size() &&
          (name[repository.size()] == ':' || name[repository.size()] == '@')) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

ImageStore::ImageStore(ImageStoreOptions options, std::string root)
    : options_(std::move(options)),
      root_(std::move(root)),
      content_(JoinPath(root_, "content")),
      snapshots_(JoinPath(root_, "snapshots")),
      registry_(RegistryOptions{.insecure_registries = options_.insecure_registries,
                                .config_dir = options_.registry_config_dir,
                                .no_progress_seconds = options_.pull_progress_timeout_seconds,
                                .retry = {}}) {}

absl::StatusOr<std::unique_ptr<ImageStore>> ImageStore::Open(ImageStoreOptions options) {
  if (options.root.empty() || options.root.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("image store root must be an absolute path, got \"", options.root, "\""));
  }
  BERTH_RETURN_IF_ERROR(MakeDirs(options.root, 0711));

  // Unpacking refuses to write through symlinks, the root's own path included.
  std::unique_ptr<char, void (*)(void*)> real(::realpath(options.root.c_str(), nullptr), ::free);
  if (!real) return ErrnoError(errno, "realpath", options.root);
  std::string root = real.get();

  std::unique_ptr<ImageStore> store(new ImageStore(std::move(options), root));
  BERTH_RETURN_IF_ERROR(store->content_.Init());
  BERTH_RETURN_IF_ERROR(store->snapshots_.Load());
  BERTH_RETURN_IF_ERROR(MakeDirs(JoinPath(root, "images"), 0700));
  BERTH_RETURN_IF_ERROR(store->LoadRecords());
  Log()->info("image store opened root={} images={} snapshots={}", root, store->records_.size(),
              store->snapshots_.List().size());
  return store;
}

std::string ImageStore::RecordPath(const std::string& id) const {
  return JoinPath(JoinPath(root_, "images"), absl::StrCat(DigestHex(id), kRecordSuffix));
}

absl::Status ImageStore::LoadRecords() {
  std::string dir_path = JoinPath(root_, "images");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_path.c_str()), ::closedir);
  if (!dir) return ErrnoError(errno, "opendir", dir_path);

  std::lock_guard<std::mutex> lock(records_mutex_);
  while (struct dirent* entry = ::readdir(dir.get())) {
    std::string name = entry->d_name;
    std::string path = JoinPath(dir_path, name);
    if (name.find(".tmp-") != std::string::npos) {
      (void)RemoveAll(path);  // an interrupted atomic write
      continue;
    }
    if (!name.ends_with(kRecordSuffix)) continue;

    auto json = ReadJsonFile(path);
    auto record = json.ok() ? ImageRecordFromJson(*json, path) : json.status();
    if (!record.ok()) {
      Log()->warn("skipping unreadable image record path={} error=\"{}\"", path,
                  record.status().ToString());
      continue;
    }
    // Snapshot directories are looked up again: the store is the truth, not the record.
    bool complete = true;
    for (size_t i = 0; i < record->chain_ids.size(); ++i) {
      auto snapshot = snapshots_.Find(record->chain_ids[i]);
      if (!snapshot) {
        Log()->warn("skipping image with a missing snapshot image={} chain_id={}", record->id,
                    record->chain_ids[i]);
        complete = false;
        break;
      }
      record->snapshot_dirs[i] = snapshot->FsDir();
    }
    if (complete) records_[record->id] = *std::move(record);
  }

  // A tag on two records means a crash interrupted a tag move: the newer pull keeps it.
  std::vector<const ImageRecord*> by_age;
  for (const auto& [id, record] : records_) by_age.push_back(&record);
  std::sort(by_age.begin(), by_age.end(), [](const ImageRecord* a, const ImageRecord* b) {
    return a->pulled_at > b->pulled_at;
  });
  for (const ImageRecord* record : by_age) {
    ImageRecord owner = *record;
    BERTH_RETURN_IF_ERROR(MoveTagsTo(owner).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<ImageRecord> ImageStore::Pull(const std::string& reference,
                                             const PullOptions& options) {
  BERTH_ASSIGN_OR_RETURN(Reference ref, ParseReference(reference));
  std::shared_lock<std::shared_mutex> gc_lock(gc_mutex_);

  int64_t started = NowNanos();
  Log()->info("pulling image={}", ref.String());
  RegistryClient registry = registry_.ForPull(options);
  PullContext context{content_,      snapshots_, registry,
                      blob_locks_,   HostPlatform(), options,
                      options_.max_concurrent_downloads, options_.keep_layer_blobs};
  auto pulled = PullImage(context, ref);
  if (!pulled.ok()) {
    Log()->warn("pull failed image={} error=\"{}\"", ref.String(), pulled.status().ToString());
    if (absl::IsResourceExhausted(pulled.status())) {
      // A full disk: what this pull stored is no use to anyone until space is freed.
      gc_lock.unlock();
      std::unique_lock<std::shared_mutex> exclusive(gc_mutex_);
      absl::Status collected = CollectGarbage();
      if (!collected.ok()) Log()->warn("cleanup after a failed pull: {}", collected.ToString());
    }
    return pulled.status();
  }
  BERTH_ASSIGN_OR_RETURN(ImageRecord record, Commit(*std::move(pulled)));
  Log()->info("pulled image={} id={} layers={} bytes={} ms={}", ref.String(), record.id,
              record.chain_ids.size(), record.size, (NowNanos() - started) / 1000000);
  return record;
}

absl::StatusOr<ImageRecord> ImageStore::Commit(ImageRecord pulled) {
  std::lock_guard<std::mutex> lock(records_mutex_);
  auto existing = records_.find(pulled.id);
  if (existing != records_.end()) {
    for (const std::string& tag : existing->second.repo_tags) AddUnique(pulled.repo_tags, tag);
    for (const std::string& digest : existing->second.repo_digests) {
      AddUnique(pulled.repo_digests, digest);
    }
  }

  // The new record is written first. A crash before the other records are rewritten leaves a
  // tag on two records, and LoadRecords() gives it to the newer pull.
  BERTH_RETURN_IF_ERROR(
      WriteJsonFileAtomic(RecordPath(pulled.id), ImageRecordToJson(pulled), 0600));
  records_[pulled.id] = pulled;
  return MoveTagsTo(pulled);
}

absl::StatusOr<ImageRecord> ImageStore::MoveTagsTo(const ImageRecord& owner) {
  for (auto& [id, other] : records_) {
    if (id == owner.id) continue;
    ImageRecord updated = other;
    auto taken = [&owner](const std::string& tag) { return Contains(owner.repo_tags, tag); };
    auto end = std::remove_if(updated.repo_tags.begin(), updated.repo_tags.end(), taken);
    if (end == updated.repo_tags.end()) continue;
    updated.repo_tags.erase(end, updated.repo_tags.end());
    BERTH_RETURN_IF_ERROR(WriteJsonFileAtomic(RecordPath(id), ImageRecordToJson(updated), 0600));
    other = std::move(updated);
    Log()->info("tag moved to another image id={} from={}", owner.id, id);
  }
  return owner;
}

absl::StatusOr<std::vector<ImageRecord>> ImageStore::Import(const std::string& archive_path,
                                                            const ImportOptions& options) {
  std::shared_lock<std::shared_mutex> gc_lock(gc_mutex_);
  Log()->info("importing archive={}", archive_path);
  ImportContext context{content_, snapshots_, HostPlatform(), options, options_.keep_layer_blobs};
  auto imported = ImportArchive(context, archive_path);
  if (!imported.ok()) {
    Log()->warn("import failed archive={} error=\"{}\"", archive_path,
                imported.status().ToString());
    return imported.status();
  }
  std::vector<ImageRecord> records;
  for (ImageRecord& record : *imported) {
    BERTH_ASSIGN_OR_RETURN(ImageRecord committed, Commit(std::move(record)));
    Log()->info("imported image id={} tags={} layers={}", committed.id,
                committed.repo_tags.size(), committed.chain_ids.size());
    records.push_back(std::move(committed));
  }
  return records;
}

std::vector<ImageRecord> ImageStore::List() const {
  std::lock_guard<std::mutex> lock(records_mutex_);
  std::vector<ImageRecord> result;
  result.reserve(records_.size());
  for (const auto& [id, record] : records_) result.push_back(record);
  return result;
}

absl::StatusOr<const ImageRecord*> ImageStore::FindLocked(const std::string& ref_or_id) const {
  // 1. A full id.
  if (ref_or_id.starts_with(kSha256Prefix)) {
    auto it = records_.find(ref_or_id);
    if (it != records_.end()) return &it->second;
  }

  // 2. A reference, by tag or by digest (of the index or of the manifest).
  auto ref = ParseReference(ref_or_id);
  if (ref.ok()) {
    for (const auto& [id, record] : records_) {
      if (ref->digest.empty()) {
        if (Contains(record.repo_tags, ref->TagRef())) return &record;
      } else if (Contains(record.repo_digests, ref->DigestRef(ref->digest)) ||
                 (record.manifest_digest == ref->digest &&
                  HasRepository(record, ref->Repository()))) {
        return &record;
      }
    }
  }

  // 3. A unique id prefix.
  std::string prefix = DigestHex(ref_or_id);
  if (IsLowerHex(prefix)) {
    const ImageRecord* match = nullptr;
    int matches = 0;
    for (const auto& [id, record] : records_) {
      if (DigestHex(id).starts_with(prefix)) {
        match = &record;
        ++matches;
      }
    }
    if (matches == 1) return match;
    if (matches > 1) {
      return absl::InvalidArgumentError(absl::StrCat("image id prefix \"", ref_or_id,
                                                     "\" is ambiguous: it matches ", matches,
                                                     " images"));
    }
  }
  return absl::NotFoundError(absl::StrCat("image \"", ref_or_id, "\" not found"));
}

absl::StatusOr<ImageRecord> ImageStore::Find(const std::string& ref_or_id) const {
  std::lock_guard<std::mutex> lock(records_mutex_);
  BERTH_ASSIGN_OR_RETURN(const ImageRecord* record, FindLocked(ref_or_id));
  return *record;
}

}  // namespace berth::image
