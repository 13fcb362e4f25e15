#include "image/whiteout.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "image/text.h"

namespace berth::image {
namespace {

// Names of the aufs whiteout format's own bookkeeping, never files of the image.
constexpr std::string_view kAufsMetaPrefix = ".wh..wh.";

}  // namespace

absl::StatusOr<std::string> CleanEntryPath(std::string_view tar_path) {
  if (tar_path.starts_with("/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer entry \"", std::string(tar_path), "\" has an absolute path"));
  }
  std::vector<std::string_view> parts;
  for (std::string_view part : Split(tar_path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("layer entry \"", std::string(tar_path), "\" contains \"..\""));
    }
    parts.push_back(part);
  }
  return Join(parts, "/");
}

absl::StatusOr<LayerEntry> ClassifyEntry(std::string_view tar_path) {
  BERTH_ASSIGN_OR_RETURN(std::string path, CleanEntryPath(tar_path));
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);

  // Entries below a ".wh..wh.*" directory are aufs metadata too (its hardlink directory).
  for (std::string_view part : Split(dir, '/', /*skip_empty=*/true)) {
    if (part.starts_with(kAufsMetaPrefix)) return LayerEntry{EntryKind::kSkip, path};
  }
  if (!name.starts_with(kWhiteoutPrefix)) return LayerEntry{EntryKind::kExtract, path};
  if (name == kOpaqueMarker) return LayerEntry{EntryKind::kOpaque, dir};
  if (name.starts_with(kAufsMetaPrefix)) {
    return LayerEntry{EntryKind::kSkip, path};
  }

  std::string hidden = name.substr(kWhiteoutPrefix.size());
  if (hidden.empty() || hidden == "." || hidden == "..") {
    return absl::InvalidArgumentError(absl::StrCat(
        "layer entry \"", std::string(tar_path), "\" is a whiteout without a valid name"));
  }
  return LayerEntry{EntryKind::kWhiteout, dir.empty() ? hidden : absl::StrCat(dir, "/", hidden)};
}

}  // namespace berth::image
