// Unpacked layers: <root>/<n>/fs contains one layer's files, <root>/<n>/snapshot.json records
// which layer it is. Snapshots are keyed by chain id, the digest of a layer together with everything
// below it, so a layer that two images share is unpacked once. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "image/keyed_mutex.h"

namespace berth::image {

struct Snapshot {
  int64_t number = 0;    // the <n> of its directory
  std::string chain_id;  // "sha256:..."
  std::string parent;    // chain id of the layer below; empty for a bottom layer
  std::string diff_id;   // digest of the uncompressed layer tar
  std::string dir;       // <root>/<n>

  std::string FsDir() const { return dir + "/fs"; }
};

// Chain ids of a stack of layers (diff ids bottom first): the first is the first diff id, each
// next one is sha256("<chain id below> <diff id>") as the OCI image spec defines it.
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

class SnapshotStore {
 public:
  // `root` is the snapshots directory, e.g. <store root>/snapshots. It should be a canonical path
  // (no symlinks), because unpacking refuses to write through symlinks.
  explicit SnapshotStore(std::string root);

  // Creates the directory, deletes what interrupted unpacks and removals left behind, and reads
  // the snapshots that are present.
  absl::Status Load();

  std::optional<Snapshot> Find(std::string_view chain_id) const;
  std::vector<Snapshot> List() const;

  // Fills a new directory with the layer's files.
  using FillFunction = std::function<absl::Status(const std::string& fs_dir)>;

  // Returns the snapshot of `chain_id`, creating it first if it is missing: `fill` runs on an
  // empty fs directory inside a temporary directory, which is renamed into place only when
  // `fill` succeeded (and deleted otherwise). Concurrent calls for one chain id run `fill` once.
  absl::StatusOr<Snapshot> Create(const std::string& chain_id, const std::string& parent,
                                  const std::string& diff_id, const FillFunction& fill);

  // Deletes a snapshot. It is renamed away first, so a crash halfway through the deletion does
  // not leave a partial layer that looks whole. A missing snapshot is success.
  absl::Status Remove(std::string_view chain_id);

 private:
  absl::StatusOr<Snapshot> ReadSnapshot(const std::string& name) const;

  std::string root_;
  mutable std::mutex mutex_;
  std::map<std::string, Snapshot, std::less<>> by_chain_id_;
  int64_t next_number_ = 1;
  KeyedMutex creating_;
};

}  // namespace berth::image
