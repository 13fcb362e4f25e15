#include "image/platform.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "image/text.h"

namespace berth::image {
namespace {

// The variants of one architecture, oldest first, and the variant that an empty one implies.
struct VariantLadder {
  std::vector<std::string> steps;
  std::string implied;
};

std::vector<std::string> Arm64Variants() {
  std::vector<std::string> steps = {"v8"};
  for (int minor = 1; minor <= 9; ++minor) steps.push_back(absl::StrCat("v8.", minor));
  steps.push_back("v9");
  for (int minor = 1; minor <= 5; ++minor) steps.push_back(absl::StrCat("v9.", minor));
  return steps;
}

const VariantLadder* LadderOf(const std::string& architecture) {
  static const VariantLadder kAmd64{{"v1", "v2", "v3", "v4"}, "v1"};
  static const VariantLadder kArm{{"v5", "v6", "v7", "v8"}, "v7"};
  static const VariantLadder kArm64{Arm64Variants(), "v8"};
  if (architecture == "amd64") return &kAmd64;
  if (architecture == "arm") return &kArm;
  if (architecture == "arm64") return &kArm64;
  return nullptr;
}

// Position of `variant` on `ladder` (empty: the implied one), or -1 when it is not on it.
int Step(const VariantLadder& ladder, const std::string& variant) {
  const std::string& name = variant.empty() ? ladder.implied : variant;
  auto it = std::find(ladder.steps.begin(), ladder.steps.end(), name);
  return it == ladder.steps.end() ? -1 : static_cast<int>(it - ladder.steps.begin());
}

// Scores are 2 * (closeness) + (1 when spelt the same), so spelling only breaks ties.
constexpr int kExactScore = 200;

}  // namespace

Platform HostPlatform() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  std::string variant;
  if (__builtin_cpu_supports("x86-64-v4")) {
    variant = "v4";
  } else if (__builtin_cpu_supports("x86-64-v3")) {
    variant = "v3";
  } else if (__builtin_cpu_supports("x86-64-v2")) {
    variant = "v2";
  }
  return {"linux", "amd64", variant};
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

int PlatformMatchScore(const Platform& want_raw, const Platform& have_raw) {
  Platform want = NormalizePlatform(want_raw);
  Platform have = NormalizePlatform(have_raw);
  if (want.os != have.os || want.architecture != have.architecture) return 0;
  int spelling = want.variant == have.variant ? 1 : 0;

  const VariantLadder* ladder = LadderOf(want.architecture);
  if (ladder == nullptr) return want.variant == have.variant ? kExactScore + 1 : 0;
  int want_step = Step(*ladder, want.variant);
  int have_step = Step(*ladder, have.variant);
  if (want_step < 0 || have_step < 0) {
    // An unknown variant matches only the same variant.
    return want.variant == have.variant ? kExactScore + 1 : 0;
  }
  if (have_step > want_step) return 0;
  return kExactScore - 2 * (want_step - have_step) + spelling;
}

absl::StatusOr<Descriptor> SelectPlatform(const std::vector<Descriptor>& manifests,
                                          const Platform& want, std::string_view reference) {
  const Descriptor* best = nullptr;
  int best_score = 0;
  std::vector<std::string> present;
  for (const Descriptor& entry : manifests) {
    if (!entry.platform) continue;
    present.push_back(PlatformString(NormalizePlatform(*entry.platform)));
    int score = PlatformMatchScore(want, *entry.platform);
    if (score > best_score) {
      best = &entry;
      best_score = score;
    }
  }
  if (best != nullptr) return *best;
  return absl::NotFoundError(absl::StrCat(
      "image ", std::string(reference), " has no manifest for platform ",
      PlatformString(NormalizePlatform(want)), "; the index lists: ",
      present.empty() ? "no platforms" : absl::StrJoin(present, ", ")));
}

}  // namespace berth::image
