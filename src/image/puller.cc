#include "image/puller.h"

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/status.h"
#include "image/image_config.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/platform.h"
#include "image/unpack.h"

namespace berth::image {
namespace {

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

// The image manifest for the wanted platform, and the index it came from (if any).
struct Resolved {
  FetchedManifest manifest;
  std::string index_digest;
};

// Downloads a blob into the content store unless it is there already.
absl::Status EnsureBlob(PullContext& context, const Reference& ref, const Descriptor& blob,
                        const std::string& what) {
  KeyedMutex::Lock lock(context.blob_locks, blob.digest);
  if (context.content.Has(blob.digest)) return absl::OkStatus();
  BERTH_ASSIGN_OR_RETURN(auto writer, context.content.NewWriter(blob.digest, blob.size, what));
  BERTH_RETURN_IF_ERROR(context.registry.FetchBlob(
      ref, blob, what, [&writer](std::string_view chunk) { return writer->Write(chunk); }));
  return writer->Commit();
}

absl::StatusOr<Resolved> Resolve(PullContext& context, const Reference& ref) {
  Resolved resolved;
  BERTH_ASSIGN_OR_RETURN(FetchedManifest top,
                         context.registry.FetchManifest(ref, ref.ManifestKey()));
  if (media::IsManifest(top.media_type)) {
    resolved.manifest = std::move(top);
    return resolved;
  }

  std::string what = absl::StrCat("index ", ref.String());
  BERTH_ASSIGN_OR_RETURN(Index index, ParseIndex(top.data, what));
  BERTH_ASSIGN_OR_RETURN(Descriptor chosen,
                         SelectPlatform(index.manifests, context.platform, ref.String()));
  if (!media::IsManifest(chosen.media_type)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": the entry for ", PlatformString(context.platform), " has media type \"",
        chosen.media_type, "\", not an image manifest (nested indexes are not supported)"));
  }
  BERTH_RETURN_IF_ERROR(context.content.Put(top.digest, top.data, what));
  resolved.index_digest = top.digest;
  BERTH_ASSIGN_OR_RETURN(resolved.manifest, context.registry.FetchManifest(ref, chosen.digest));
  if (!media::IsManifest(resolved.manifest.media_type)) {
    return absl::FailedPreconditionError(absl::StrCat("manifest ", chosen.digest, " of ",
                                                      ref.String(), " has media type \"",
                                                      resolved.manifest.media_type, "\""));
  }
  return resolved;
}

absl::StatusOr<ParsedImageConfig> FetchConfig(PullContext& context, const Reference& ref,
                                              const Descriptor& config) {
  std::string what = absl::StrCat("config ", config.digest, " of ", ref.String());
  BERTH_RETURN_IF_ERROR(EnsureBlob(context, ref, config, what));
  BERTH_ASSIGN_OR_RETURN(std::string data, context.content.Read(config.digest, kMaxManifestBytes));
  return ParseImageConfig(data, what);
}

// Makes sure layer `index` has its snapshot, downloading and unpacking only when it is missing.
absl::StatusOr<Snapshot> EnsureSnapshot(PullContext& context, const Reference& ref,
                                        const Descriptor& layer, const std::string& diff_id,
                                        const std::string& chain_id, const std::string& parent) {
  if (auto existing = context.snapshots.Find(chain_id)) return *existing;
  std::string what = absl::StrCat("layer ", layer.digest, " of ", ref.String());
  BERTH_RETURN_IF_ERROR(EnsureBlob(context, ref, layer, what));
  std::string blob_path = context.content.BlobPath(layer.digest);
  int64_t started = NowNanos();
  BERTH_ASSIGN_OR_RETURN(
      Snapshot snapshot,
      context.snapshots.Create(chain_id, parent, diff_id, [&](const std::string& fs_dir) {
        return UnpackLayer(blob_path, fs_dir, diff_id, what);
      }));
  Log()->debug("layer ready image={} layer={} snapshot={} ms={}", ref.String(), layer.digest,
               snapshot.number, (NowNanos() - started) / 1000000);
  return snapshot;
}

}  // namespace

absl::StatusOr<ImageRecord> PullImage(PullContext& context, const Reference& ref) {
  BERTH_ASSIGN_OR_RETURN(Resolved resolved, Resolve(context, ref));
  std::string manifest_what = absl::StrCat("manifest ", resolved.manifest.digest, " of ",
                                           ref.String());
  BERTH_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(resolved.manifest.data, manifest_what));
  BERTH_RETURN_IF_ERROR(context.content.Put(resolved.manifest.digest, resolved.manifest.data,
                                            manifest_what));

  BERTH_ASSIGN_OR_RETURN(ParsedImageConfig config, FetchConfig(context, ref, manifest.config));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        manifest_what, ": ", manifest.layers.size(), " layers but the config lists ",
        config.diff_ids.size(), " diff ids"));
  }

  ImageRecord record;
  record.id = manifest.config.digest;
  record.config = std::move(config.config);
  record.manifest_digest = resolved.manifest.digest;
  record.index_digest = resolved.index_digest;
  record.diff_ids = config.diff_ids;
  record.chain_ids = ChainIds(config.diff_ids);
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    std::string parent = i == 0 ? "" : record.chain_ids[i - 1];
    BERTH_ASSIGN_OR_RETURN(Snapshot snapshot,
                           EnsureSnapshot(context, ref, layer, record.diff_ids[i],
                                          record.chain_ids[i], parent));
    record.layer_digests.push_back(layer.digest);
    record.snapshot_dirs.push_back(snapshot.FsDir());
    record.size += layer.size;
  }

  if (ref.digest.empty()) record.repo_tags.push_back(ref.TagRef());
  std::string resolved_digest =
      resolved.index_digest.empty() ? resolved.manifest.digest : resolved.index_digest;
  record.repo_digests.push_back(ref.DigestRef(resolved_digest));
  record.pulled_at = NowNanos();
  return record;
}

}  // namespace berth::image
