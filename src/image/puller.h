// The steps of one pull: resolve the reference to a manifest (through an index when there is
// one), fetch and verify the config into the content store, then download and unpack the
// layers, several at once, each into its snapshot (pull_pipeline.h). ImageStore::Pull runs this
// and then records the result.
#pragma once

#include "absl/status/statusor.h"
#include "image/image_record.h"
#include "image/pull_context.h"
#include "image/reference.h"

namespace berth::image {

// Pulls `ref` and returns its record. repo_tags contains ref.TagRef() when the reference has a
// tag and no digest. A digest pins the content, so a tag next to it is not recorded.
// repo_digests contains the digest the reference resolved to. Snapshots and blobs already
// present are reused, not fetched again. Progress goes to context.options.on_progress, and
// context.options.cancelled is polled between steps and chunks. On failure nothing partial is
// left, because blobs and snapshots are only renamed into place whole. Complete layers of a
// failed pull stay until the next garbage collection.
absl::StatusOr<ImageRecord> PullImage(PullContext& context, const Reference& ref);

}  // namespace berth::image
