#include "image/image_record.h"

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "image/digest.h"

namespace berth::image {
namespace {

using nlohmann::json;

absl::Status BadField(std::string_view what, std::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat("malformed ", std::string(what), ": field \"",
                                                 std::string(field), "\" missing or mistyped"));
}

absl::Status ReadString(const json& value, const char* key, std::string* out,
                        std::string_view what) {
  auto it = value.find(key);
  if (it == value.end() || !it->is_string()) return BadField(what, key);
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadStrings(const json& value, const char* key, std::vector<std::string>* out,
                         std::string_view what) {
  auto it = value.find(key);
  if (it == value.end() || !it->is_array()) return BadField(what, key);
  for (const json& item : *it) {
    if (!item.is_string()) return BadField(what, key);
    out->push_back(item.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status ReadInt(const json& value, const char* key, int64_t* out, std::string_view what) {
  auto it = value.find(key);
  if (it == value.end() || !it->is_number_integer()) return BadField(what, key);
  *out = it->get<int64_t>();
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> ImageRecord::BlobDigests() const {
  std::vector<std::string> digests;
  if (!index_digest.empty()) digests.push_back(index_digest);
  digests.push_back(manifest_digest);
  digests.push_back(id);
  digests.insert(digests.end(), layer_digests.begin(), layer_digests.end());
  return digests;
}

json ImageRecordToJson(const ImageRecord& record) {
  return {{"id", record.id},
          {"repo_tags", record.repo_tags},
          {"repo_digests", record.repo_digests},
          {"size", record.size},
          {"config", ImageConfigToJson(record.config)},
          {"manifest_digest", record.manifest_digest},
          {"index_digest", record.index_digest},
          {"layer_digests", record.layer_digests},
          {"diff_ids", record.diff_ids},
          {"chain_ids", record.chain_ids},
          {"snapshot_dirs", record.snapshot_dirs},
          {"pulled_at", record.pulled_at}};
}

absl::StatusOr<ImageRecord> ImageRecordFromJson(const json& value, std::string_view what) {
  if (!value.is_object()) return BadField(what, "(top level)");
  ImageRecord record;
  BERTH_RETURN_IF_ERROR(ReadString(value, "id", &record.id, what));
  BERTH_RETURN_IF_ERROR(Annotate(ValidateDigest(record.id), std::string(what)));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "repo_tags", &record.repo_tags, what));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "repo_digests", &record.repo_digests, what));
  BERTH_RETURN_IF_ERROR(ReadInt(value, "size", &record.size, what));
  auto config = value.find("config");
  if (config == value.end()) return BadField(what, "config");
  BERTH_ASSIGN_OR_RETURN(record.config, ImageConfigFromJson(*config));
  BERTH_RETURN_IF_ERROR(ReadString(value, "manifest_digest", &record.manifest_digest, what));
  BERTH_RETURN_IF_ERROR(ReadString(value, "index_digest", &record.index_digest, what));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "layer_digests", &record.layer_digests, what));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "diff_ids", &record.diff_ids, what));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "chain_ids", &record.chain_ids, what));
  BERTH_RETURN_IF_ERROR(ReadStrings(value, "snapshot_dirs", &record.snapshot_dirs, what));
  BERTH_RETURN_IF_ERROR(ReadInt(value, "pulled_at", &record.pulled_at, what));
  if (record.chain_ids.size() != record.diff_ids.size() ||
      record.snapshot_dirs.size() != record.chain_ids.size() ||
      record.layer_digests.size() != record.chain_ids.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed ", std::string(what),
        ": layer_digests, diff_ids, chain_ids and snapshot_dirs differ in length"));
  }
  return record;
}

}  // namespace berth::image
