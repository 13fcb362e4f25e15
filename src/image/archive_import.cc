#include "image/archive_import.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "image/archive_import_tar.h"
#include "image/digest.h"
#include "image/image_config.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/platform.h"
#include "image/reference.h"
#include "image/unpack.h"

namespace berth::image {
namespace {

using archive::ArchiveFile;
using archive::Catalogue;
using nlohmann::json;

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

constexpr std::string_view kOciLayoutFile = "oci-layout";
constexpr std::string_view kOciIndexFile = "index.json";
constexpr std::string_view kDockerManifestFile = "manifest.json";
constexpr std::string_view kDockerRepositoriesFile = "repositories";
// Annotations of index.json entries that name the image.
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";
constexpr std::string_view kOciRefNameAnnotation = "org.opencontainers.image.ref.name";

// One image of the archive, planned before anything is stored.
struct PlannedImage {
  std::string what;                       // names the image in errors
  std::vector<std::string> repo_tags;     // normalised "repository:tag"
  std::vector<std::string> repo_digests;  // "repository@sha256:..."
  std::string index_digest;               // the nested index it was chosen from, if any
  std::string manifest_digest;
  std::string manifest_data;  // stored from memory (a docker save manifest is made here)
  std::string config_digest;
  ParsedImageConfig config;
  std::vector<Descriptor> layers;   // bottom first
  std::set<std::string> blob_paths; // archive files to store under their digests
};

std::string StringField(const json& object, std::string_view key) {
  auto it = object.find(std::string(key));
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

absl::StatusOr<json> ReadDocument(const Catalogue& catalogue, std::string_view path,
                                  std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(std::string_view data, catalogue.Document(path, what));
  return ParseJson(data, what);
}

std::string BlobPathOf(std::string_view digest) {
  return absl::StrCat("blobs/sha256/", DigestHex(digest));
}

// The archive file of an OCI blob, checked against the descriptor's digest and size.
absl::StatusOr<const ArchiveFile*> OciBlob(const Catalogue& catalogue, const Descriptor& blob,
                                           std::string_view what) {
  BERTH_RETURN_IF_ERROR(Annotate(ValidateDigest(blob.digest), what));
  BERTH_ASSIGN_OR_RETURN(const ArchiveFile* file, catalogue.Find(BlobPathOf(blob.digest), what));
  if (file->digest != blob.digest) {
    return absl::DataLossError(absl::StrCat(std::string(what), ": blob ", file->path,
                                            " has digest ", file->digest, ", expected ",
                                            blob.digest));
  }
  if (file->size != blob.size) {
    return absl::DataLossError(absl::StrCat(std::string(what), ": blob ", blob.digest, " has ",
                                            file->size, " bytes, the descriptor says ",
                                            blob.size));
  }
  return file;
}

// The media type of a layer file from its first bytes.
std::string_view LayerTypeOf(const ArchiveFile& file) {
  if (file.head.starts_with("\x1f\x8b")) return media::kOciLayerGzip;
  if (file.head.starts_with("\x28\xb5\x2f\xfd")) return media::kOciLayerZstd;
  return media::kOciLayer;
}

// Reads the config, checks it against the layers and fills plan.config.
absl::Status LoadConfig(const Catalogue& catalogue, const std::string& path, PlannedImage& plan) {
  std::string what = absl::StrCat("config ", plan.config_digest, " of ", plan.what);
  BERTH_ASSIGN_OR_RETURN(std::string_view data, catalogue.Document(path, what));
  BERTH_ASSIGN_OR_RETURN(plan.config, ParseImageConfig(data, what));
  if (plan.layers.size() > kMaxLayers) {
    return absl::FailedPreconditionError(absl::StrCat(plan.what, " has ", plan.layers.size(),
                                                      " layers, more than the limit of ",
                                                      kMaxLayers));
  }
  if (plan.config.diff_ids.size() != plan.layers.size()) {
    return absl::InvalidArgumentError(absl::StrCat(plan.what, ": ", plan.layers.size(),
                                                   " layers but the config lists ",
                                                   plan.config.diff_ids.size(), " diff ids"));
  }
  return absl::OkStatus();
}

// The name an index.json entry gives its image, if any.
absl::StatusOr<std::optional<Reference>> OciEntryName(const json& entry,
                                                      const ImportOptions& options,
                                                      std::string_view what) {
  auto annotations = entry.find("annotations");
  if (annotations == entry.end() || !annotations->is_object()) return std::nullopt;
  std::string name = StringField(*annotations, kContainerdNameAnnotation);
  if (name.empty()) {
    name = StringField(*annotations, kOciRefNameAnnotation);
    // A bare tag ("1.0") needs a repository; a full reference has '/', ':' or '@' in it.
    if (!name.empty() && name.find_first_of("/:@") == std::string::npos) {
      if (options.base_name.empty()) {
        Log()->warn("image in archive named by a bare tag and no base name given; it is "
                    "imported by id only entry=\"{}\" tag={}", std::string(what), name);
        return std::nullopt;
      }
      name = absl::StrCat(options.base_name, ":", name);
    }
  }
  if (name.empty()) return std::nullopt;
  auto ref = ParseReference(name);
  if (!ref.ok()) return Annotate(ref.status(), what);
  return *ref;
}

// Plans one image from the manifest `manifest` found through `what`.
absl::StatusOr<PlannedImage> PlanOciManifest(const Catalogue& catalogue,
                                             const Descriptor& manifest, std::string what) {
  PlannedImage plan;
  plan.what = std::move(what);
  std::string manifest_what = absl::StrCat("manifest ", manifest.digest, " of ", plan.what);
  BERTH_ASSIGN_OR_RETURN(const ArchiveFile* file, OciBlob(catalogue, manifest, manifest_what));
  BERTH_ASSIGN_OR_RETURN(std::string_view data, catalogue.Document(file->path, manifest_what));
  BERTH_ASSIGN_OR_RETURN(Manifest parsed, ParseManifest(data, manifest_what));
  plan.manifest_digest = manifest.digest;
  plan.manifest_data = std::string(data);

  BERTH_ASSIGN_OR_RETURN(const ArchiveFile* config,
                         OciBlob(catalogue, parsed.config, absl::StrCat("config of ", plan.what)));
  plan.config_digest = parsed.config.digest;
  plan.blob_paths.insert(config->path);
  for (const Descriptor& layer : parsed.layers) {
    std::string layer_what = absl::StrCat("layer ", layer.digest, " of ", plan.what);
    BERTH_ASSIGN_OR_RETURN(const ArchiveFile* layer_file, OciBlob(catalogue, layer, layer_what));
    plan.blob_paths.insert(layer_file->path);
    plan.layers.push_back(layer);
  }
  BERTH_RETURN_IF_ERROR(LoadConfig(catalogue, config->path, plan));
  return plan;
}

// Plans the image of one index.json entry, or nothing when the entry is for another platform.
absl::StatusOr<std::optional<PlannedImage>> PlanOciEntry(const Catalogue& catalogue,
                                                         const Descriptor& entry,
                                                         std::optional<Reference> name,
                                                         const Platform& platform) {
  std::string what = name ? name->String() : absl::StrCat("image ", entry.digest);
  if (entry.platform && !SelectPlatform({entry}, platform, what).ok()) {
    Log()->info("skipping archive entry for another platform entry={} platform={}", entry.digest,
                PlatformString(*entry.platform));
    return std::nullopt;
  }

  BERTH_ASSIGN_OR_RETURN(const ArchiveFile* top, OciBlob(catalogue, entry, what));
  BERTH_ASSIGN_OR_RETURN(std::string_view top_data, catalogue.Document(top->path, what));
  BERTH_ASSIGN_OR_RETURN(std::string type, DetectMediaType(entry.media_type, top_data, what));

  PlannedImage plan;
  if (media::IsIndex(type)) {
    BERTH_ASSIGN_OR_RETURN(Index index, ParseIndex(top_data, absl::StrCat("index of ", what)));
    BERTH_ASSIGN_OR_RETURN(Descriptor chosen, SelectPlatform(index.manifests, platform, what));
    if (!media::IsManifest(chosen.media_type)) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": the entry for ", PlatformString(platform), " has media type \"",
          chosen.media_type, "\", not an image manifest (nested indexes are not supported)"));
    }
    BERTH_ASSIGN_OR_RETURN(plan, PlanOciManifest(catalogue, chosen, what));
    plan.index_digest = entry.digest;
    plan.blob_paths.insert(top->path);
  } else {
    BERTH_ASSIGN_OR_RETURN(plan, PlanOciManifest(catalogue, entry, what));
  }
  if (name) {
    if (!name->tag.empty() && name->digest.empty()) plan.repo_tags.push_back(name->TagRef());
    plan.repo_digests.push_back(name->DigestRef(entry.digest));
  }
  return plan;
}

absl::StatusOr<std::vector<PlannedImage>> PlanOci(const Catalogue& catalogue,
                                                  const ImportContext& context) {
  if (catalogue.Has(kOciLayoutFile)) {
    BERTH_ASSIGN_OR_RETURN(json layout, ReadDocument(catalogue, kOciLayoutFile, "oci-layout"));
    std::string version = layout.is_object() ? StringField(layout, "imageLayoutVersion") : "";
    if (!version.starts_with("1.")) {
      return absl::FailedPreconditionError(absl::StrCat(
          "oci-layout: image layout version \"", version, "\" is not supported (want 1.x)"));
    }
  }
  BERTH_ASSIGN_OR_RETURN(std::string_view data, catalogue.Document(kOciIndexFile, "index.json"));
  BERTH_ASSIGN_OR_RETURN(Index index, ParseIndex(data, "index.json"));
  BERTH_ASSIGN_OR_RETURN(json document, ParseJson(data, "index.json"));
  const json& entries = document["manifests"];

  std::vector<PlannedImage> plans;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    std::string what = absl::StrCat("index.json entry ", i);
    BERTH_ASSIGN_OR_RETURN(std::optional<Reference> name,
                           OciEntryName(entries[i], context.options, what));
    BERTH_ASSIGN_OR_RETURN(std::optional<PlannedImage> plan,
                           PlanOciEntry(catalogue, index.manifests[i], name, context.platform));
    if (plan) plans.push_back(*std::move(plan));
  }
  return plans;
}

// Checks a docker save file named by its digest ("<hex>.json", "blobs/sha256/<hex>") against
// its content.
absl::Status CheckNamedDigest(const ArchiveFile& file, std::string_view what) {
  std::string_view name = file.path;
  name = name.substr(name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/') + 1);
  if (name.ends_with(".json")) name.remove_suffix(5);
  std::string claimed = absl::StrCat(std::string(kSha256Prefix), std::string(name));
  if (!ValidateDigest(claimed).ok() || claimed == file.digest) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(std::string(what), ": ", file.path, " has digest ",
                                          file.digest, ", not the one its name gives"));
}

// An OCI manifest for a docker save image, which has none of its own.
std::string MakeManifest(const std::string& config_digest, int64_t config_size,
                         const std::vector<Descriptor>& layers) {
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", std::string(media::kOciManifest)},
                   {"config",
                    {{"mediaType", std::string(media::kOciConfig)},
                     {"digest", config_digest},
                     {"size", config_size}}},
                   {"layers", json::array()}};
  for (const Descriptor& layer : layers) {
    manifest["layers"].push_back(
        {{"mediaType", layer.media_type}, {"digest", layer.digest}, {"size", layer.size}});
  }
  return manifest.dump();
}

absl::StatusOr<PlannedImage> PlanDockerEntry(const Catalogue& catalogue, const json& entry,
                                             size_t number) {
  PlannedImage plan;
  plan.what = absl::StrCat("manifest.json entry ", number);
  if (!entry.is_object()) return absl::InvalidArgumentError(plan.what + " is not an object");
  auto tags = entry.find("RepoTags");
  if (tags != entry.end() && tags->is_array()) {
    for (const json& tag : *tags) {
      if (!tag.is_string()) return absl::InvalidArgumentError(plan.what + ": RepoTags has a non-string entry");
      auto ref = ParseReference(tag.get<std::string>());
      if (!ref.ok()) return Annotate(ref.status(), plan.what);
      if (!ref->tag.empty()) plan.repo_tags.push_back(ref->TagRef());
    }
    if (!plan.repo_tags.empty()) plan.what = plan.repo_tags.front();
  }

  std::string config_path = StringField(entry, "Config");
  BERTH_ASSIGN_OR_RETURN(const ArchiveFile* config,
                         catalogue.Find(config_path, absl::StrCat("config of ", plan.what)));
  BERTH_RETURN_IF_ERROR(CheckNamedDigest(*config, absl::StrCat("config of ", plan.what)));
  plan.config_digest = config->digest;
  plan.blob_paths.insert(config->path);

  auto layers = entry.find("Layers");
  if (layers == entry.end() || !layers->is_array()) {
    return absl::InvalidArgumentError(plan.what + ": missing \"Layers\"");
  }
  for (const json& layer_path : *layers) {
    if (!layer_path.is_string()) return absl::InvalidArgumentError(plan.what + ": Layers has a non-string entry");
    std::string what = absl::StrCat("layer ", layer_path.get<std::string>(), " of ", plan.what);
    BERTH_ASSIGN_OR_RETURN(const ArchiveFile* file,
                           catalogue.Find(layer_path.get<std::string>(), what));
    BERTH_RETURN_IF_ERROR(CheckNamedDigest(*file, what));
    plan.blob_paths.insert(file->path);
    Descriptor layer;
    layer.media_type = LayerTypeOf(*file);
    layer.digest = file->digest;
    layer.size = file->size;
    plan.layers.push_back(std::move(layer));
  }
  BERTH_RETURN_IF_ERROR(LoadConfig(catalogue, config->path, plan));

  // A plain tar layer is its own diff: catch a mismatch before anything is stored.
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const Descriptor& layer = plan.layers[i];
    if (layer.media_type == media::kOciLayer && layer.digest != plan.config.diff_ids[i]) {
      return absl::DataLossError(absl::StrCat("layer ", i, " of ", plan.what, " has digest ",
                                              layer.digest, ", the config gives diff id ",
                                              plan.config.diff_ids[i]));
    }
  }
  plan.manifest_data = MakeManifest(plan.config_digest, config->size, plan.layers);
  plan.manifest_digest = Sha256Digest(plan.manifest_data);
  return plan;
}

absl::StatusOr<std::vector<PlannedImage>> PlanDocker(const Catalogue& catalogue) {
  BERTH_ASSIGN_OR_RETURN(json document,
                         ReadDocument(catalogue, kDockerManifestFile, "manifest.json"));
  if (!document.is_array()) return absl::InvalidArgumentError("manifest.json is not a list");
  std::vector<PlannedImage> plans;
  for (size_t i = 0; i < document.size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(PlannedImage plan, PlanDockerEntry(catalogue, document[i], i));
    plans.push_back(std::move(plan));
  }
  return plans;
}

absl::StatusOr<std::vector<PlannedImage>> Plan(const Catalogue& catalogue,
                                               const ImportContext& context,
                                               const std::string& archive_path) {
  std::vector<PlannedImage> plans;
  if (catalogue.Has(kDockerManifestFile)) {
    BERTH_ASSIGN_OR_RETURN(plans, PlanDocker(catalogue));
  } else if (catalogue.Has(kOciIndexFile)) {
    BERTH_ASSIGN_OR_RETURN(plans, PlanOci(catalogue, context));
  } else if (catalogue.Has(kDockerRepositoriesFile)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "archive ", archive_path, " is a docker save archive without manifest.json, written "
        "by Docker before 1.10; it is not supported"));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("archive ", archive_path, " has neither index.json (OCI image layout) nor "
                     "manifest.json (docker save)"));
  }
  if (plans.size() > kMaxArchiveImages) {
    return absl::FailedPreconditionError(absl::StrCat("archive ", archive_path, " contains ",
                                                      plans.size(), " images, more than ",
                                                      kMaxArchiveImages));
  }
  if (plans.empty()) {
    return absl::NotFoundError(absl::StrCat("archive ", archive_path, " contains no image for ",
                                            PlatformString(context.platform)));
  }
  return plans;
}

// Unpacks the layers of a planned image whose blobs are stored, and returns its record.
absl::StatusOr<ImageRecord> Unpack(ImportContext& context, const PlannedImage& plan) {
  ImageRecord record;
  record.id = plan.config_digest;
  record.config = plan.config.config;
  record.manifest_digest = plan.manifest_digest;
  record.index_digest = plan.index_digest;
  record.repo_tags = plan.repo_tags;
  record.repo_digests = plan.repo_digests;
  record.diff_ids = plan.config.diff_ids;
  record.chain_ids = ChainIds(record.diff_ids);

  for (size_t i = 0; i < plan.layers.size(); ++i) {
    if (context.options.cancelled && context.options.cancelled()) {
      return archive::ImportCancelled();
    }
    const Descriptor& layer = plan.layers[i];
    std::string blob_path = context.content.BlobPath(layer.digest);
    std::string what = absl::StrCat("layer ", layer.digest, " of ", plan.what);
    const std::string& diff_id = record.diff_ids[i];
    std::optional<Snapshot> snapshot = context.snapshots.Find(record.chain_ids[i]);
    if (!snapshot) {
      BERTH_ASSIGN_OR_RETURN(
          snapshot, context.snapshots.Create(
                        record.chain_ids[i], i == 0 ? "" : record.chain_ids[i - 1], diff_id,
                        [&](const std::string& fs_dir) {
                          return UnpackLayer(blob_path, fs_dir, diff_id, what);
                        }));
    }
    record.layer_digests.push_back(layer.digest);
    record.snapshot_dirs.push_back(snapshot->FsDir());
    record.size += layer.size;
  }

  record.pulled_at = NowNanos();
  return record;
}

void AddUnique(std::vector<std::string>& list, const std::vector<std::string>& values) {
  for (const std::string& value : values) {
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
  }
}

}  // namespace

absl::StatusOr<std::vector<ImageRecord>> ImportArchive(ImportContext& context,
                                                       const std::string& archive_path) {
  int64_t started = NowNanos();
  BERTH_ASSIGN_OR_RETURN(Catalogue catalogue,
                         Catalogue::Read(archive_path, kMaxManifestBytes, context.options.cancelled));
  BERTH_ASSIGN_OR_RETURN(std::vector<PlannedImage> plans, Plan(catalogue, context, archive_path));

  std::set<std::string> blob_paths;
  for (const PlannedImage& plan : plans) {
    blob_paths.insert(plan.blob_paths.begin(), plan.blob_paths.end());
  }
  BERTH_RETURN_IF_ERROR(archive::CopyToContent(archive_path, catalogue, blob_paths,
                                               context.content, context.options.cancelled));

  std::vector<ImageRecord> records;
  std::map<std::string, size_t> by_id;
  for (const PlannedImage& plan : plans) {
    BERTH_RETURN_IF_ERROR(context.content.Put(plan.manifest_digest, plan.manifest_data,
                                              absl::StrCat("manifest of ", plan.what)));
    BERTH_ASSIGN_OR_RETURN(ImageRecord record, Unpack(context, plan));
    auto [it, added] = by_id.emplace(record.id, records.size());
    if (added) {
      records.push_back(std::move(record));
    } else {
      AddUnique(records[it->second].repo_tags, record.repo_tags);
      AddUnique(records[it->second].repo_digests, record.repo_digests);
    }
  }
  // NOTE: a concurrent import that stacks a shared layer on other layers may still need a blob
  // deleted here. It then fails with NotFound and succeeds when run again.
  if (!context.keep_layer_blobs) {
    for (const PlannedImage& plan : plans) {
      for (const Descriptor& layer : plan.layers) {
        absl::Status deleted = context.content.Delete(layer.digest);
        if (!deleted.ok()) {
          Log()->warn("could not delete an unpacked layer blob layer={} error=\"{}\"",
                      layer.digest, deleted.ToString());
        }
      }
    }
  }
  Log()->info("archive imported archive={} files={} images={} ms={}", archive_path,
              catalogue.file_count(), records.size(), (NowNanos() - started) / 1000000);
  return records;
}

}  // namespace berth::image
