#include "image/puller.h"

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status.h"
#include "image/image_config.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/platform.h"
#include "image/pull_pipeline.h"
#include "image/pull_progress.h"

namespace berth::image {
namespace {

// The image manifest for the wanted platform, and the index it came from (if any).
struct Resolved {
  FetchedManifest manifest;
  std::string index_digest;
};

absl::Status CheckCancelled(const PullContext& context, const Reference& ref) {
  if (context.options.cancelled && context.options.cancelled()) {
    return absl::CancelledError(absl::StrCat("pull of ", ref.String(), " cancelled"));
  }
  return absl::OkStatus();
}

// Downloads a small blob (a config) into the content store unless it is there already.
absl::Status EnsureBlob(PullContext& context, const Reference& ref, const Descriptor& blob,
                        const std::string& what, BlobProgress& progress) {
  KeyedMutex::Lock lock(context.blob_locks, blob.digest);
  if (context.content.Has(blob.digest)) {
    progress.Done(/*reused=*/true);
    return absl::OkStatus();
  }
  BERTH_ASSIGN_OR_RETURN(auto writer, context.content.NewWriter(blob.digest, blob.size, what));
  BERTH_RETURN_IF_ERROR(context.registry.FetchBlob(
      ref, blob, what, [&](std::string_view chunk) -> absl::Status {
        BERTH_RETURN_IF_ERROR(CheckCancelled(context, ref));
        BERTH_RETURN_IF_ERROR(writer->Write(chunk));
        progress.Add(chunk.size());
        return absl::OkStatus();
      }));
  BERTH_RETURN_IF_ERROR(writer->Commit());
  progress.Done(/*reused=*/false);
  return absl::OkStatus();
}

// Reports a manifest or index fetched in one piece.
void ReportDocument(const PullContext& context, const FetchedManifest& document) {
  BlobProgress progress(context.options, document.digest, "manifest", document.data.size());
  progress.Add(document.data.size());
  progress.Done(/*reused=*/false);
}

absl::StatusOr<Resolved> Resolve(PullContext& context, const Reference& ref) {
  Resolved resolved;
  BERTH_ASSIGN_OR_RETURN(FetchedManifest top,
                         context.registry.FetchManifest(ref, ref.ManifestKey()));
  ReportDocument(context, top);
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
  if (chosen.size > kMaxManifestBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": manifest ", chosen.digest, " of ", chosen.size, " bytes exceeds the limit of ",
        kMaxManifestBytes));
  }
  BERTH_RETURN_IF_ERROR(context.content.Put(top.digest, top.data, what));
  resolved.index_digest = top.digest;
  BERTH_RETURN_IF_ERROR(CheckCancelled(context, ref));
  BERTH_ASSIGN_OR_RETURN(resolved.manifest, context.registry.FetchManifest(ref, chosen.digest));
  ReportDocument(context, resolved.manifest);
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
  BlobProgress progress(context.options, config.digest, "config",
                        static_cast<uint64_t>(config.size));
  BERTH_RETURN_IF_ERROR(EnsureBlob(context, ref, config, what, progress));
  BERTH_ASSIGN_OR_RETURN(std::string data, context.content.Read(config.digest, kMaxManifestBytes));
  return ParseImageConfig(data, what);
}

}  // namespace

absl::StatusOr<ImageRecord> PullImage(PullContext& context, const Reference& ref) {
  BERTH_RETURN_IF_ERROR(CheckCancelled(context, ref));
  BERTH_ASSIGN_OR_RETURN(Resolved resolved, Resolve(context, ref));
  std::string manifest_what = absl::StrCat("manifest ", resolved.manifest.digest, " of ",
                                           ref.String());
  BERTH_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(resolved.manifest.data, manifest_what));
  BERTH_RETURN_IF_ERROR(context.content.Put(resolved.manifest.digest, resolved.manifest.data,
                                            manifest_what));

  BERTH_RETURN_IF_ERROR(CheckCancelled(context, ref));
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
  std::vector<LayerTask> tasks;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    tasks.push_back({manifest.layers[i], record.diff_ids[i], record.chain_ids[i],
                     i == 0 ? "" : record.chain_ids[i - 1]});
    record.layer_digests.push_back(manifest.layers[i].digest);
    record.size += manifest.layers[i].size;
  }
  BERTH_RETURN_IF_ERROR(CheckCancelled(context, ref));
  BERTH_ASSIGN_OR_RETURN(std::vector<Snapshot> snapshots, EnsureLayers(context, ref, tasks));
  for (const Snapshot& snapshot : snapshots) record.snapshot_dirs.push_back(snapshot.FsDir());

  if (ref.digest.empty()) record.repo_tags.push_back(ref.TagRef());
  std::string resolved_digest =
      resolved.index_digest.empty() ? resolved.manifest.digest : resolved.index_digest;
  record.repo_digests.push_back(ref.DigestRef(resolved_digest));
  record.pulled_at = NowNanos();
  return record;
}

}  // namespace berth::image
