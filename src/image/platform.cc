#include "image/platform.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "image/text.h"

namespace berth::image {
namespace {

// Scores how well `have` fits `want` (both normalised): 0 means not at all, higher is better.
int MatchScore(const Platform& want, const Platform& have) {
  if (want.os != have.os || want.architecture != have.architecture) return 0;
  if (want.variant == have.variant) return 3;
  if (have.variant.empty()) return 2;
  if (want.variant.empty()) return 1;
  return 0;
}

}  // namespace

Platform HostPlatform() {
#if defined(__x86_64__)
  return {"linux", "amd64", ""};
#elif defined(__aarch64__)
  return {"linux", "arm64", ""};
#else
#error "Berth knows the OCI platform name of x86_64 and aarch64 only"
#endif
}

Platform NormalizePlatform(Platform platform) {
  platform.os = ToLower(platform.os);
  platform.architecture = ToLower(platform.architecture);
  platform.variant = ToLower(platform.variant);
  if (platform.architecture == "x86_64" || platform.architecture == "x86-64") {
    platform.architecture = "amd64";
  } else if (platform.architecture == "aarch64") {
    platform.architecture = "arm64";
  } else if (platform.architecture == "armhf") {
    platform.architecture = "arm";
    platform.variant = "v7";
  } else if (platform.architecture == "armel") {
    platform.architecture = "arm";
    platform.variant = "v6";
  }
  if (platform.architecture == "arm64" && platform.variant == "v8") platform.variant.clear();
  return platform;
}

std::string PlatformString(const Platform& platform) {
  std::string result = absl::StrCat(platform.os, "/", platform.architecture);
  if (!platform.variant.empty()) absl::StrAppend(&result, "/", platform.variant);
  return result;
}

absl::StatusOr<Descriptor> SelectPlatform(const std::vector<Descriptor>& manifests,
                                          const Platform& want, std::string_view reference) {
  Platform target = NormalizePlatform(want);
  const Descriptor* best = nullptr;
  int best_score = 0;
  std::vector<std::string> present;
  for (const Descriptor& entry : manifests) {
    if (!entry.platform) continue;
    Platform have = NormalizePlatform(*entry.platform);
    present.push_back(PlatformString(have));
    int score = MatchScore(target, have);
    if (score > best_score) {
      best = &entry;
      best_score = score;
    }
  }
  if (best != nullptr) return *best;
  return absl::NotFoundError(absl::StrCat(
      "image ", std::string(reference), " has no manifest for platform ", PlatformString(target),
      "; the index lists: ", present.empty() ? "no platforms" : absl::StrJoin(present, ", ")));
}

}  // namespace berth::image
