#include "cmd/berthctl/filters.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace berth::ctl {

absl::StatusOr<std::map<std::string, std::string>> ParseLabelSelector(
    const std::vector<std::string>& labels) {
  std::map<std::string, std::string> selector;
  for (const std::string& label : labels) {
    const size_t equals = label.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--label \"", label, "\": expected KEY=VALUE"));
    }
    selector[label.substr(0, equals)] = label.substr(equals + 1);
  }
  return selector;
}

absl::StatusOr<runtime::v1::PodSandboxState> ParsePodState(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(std::string(text));
  if (lower == "ready" || lower == "sandbox_ready") return runtime::v1::SANDBOX_READY;
  if (lower == "notready" || lower == "sandbox_notready") return runtime::v1::SANDBOX_NOTREADY;
  return absl::InvalidArgumentError(
      absl::StrCat("--state \"", std::string(text), "\": expected ready or notready"));
}

absl::StatusOr<runtime::v1::ContainerState> ParseContainerState(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(std::string(text));
  if (lower.starts_with("container_")) lower = lower.substr(10);
  if (lower == "created") return runtime::v1::CONTAINER_CREATED;
  if (lower == "running") return runtime::v1::CONTAINER_RUNNING;
  if (lower == "exited") return runtime::v1::CONTAINER_EXITED;
  if (lower == "unknown") return runtime::v1::CONTAINER_UNKNOWN;
  return absl::InvalidArgumentError(absl::StrCat(
      "--state \"", std::string(text), "\": expected created, running, exited or unknown"));
}

absl::StatusOr<NameMatcher> NameMatcher::Create(const std::string& pattern,
                                                std::string_view flag) {
  NameMatcher matcher;
  if (pattern.empty()) return matcher;
  try {
    matcher.regex_.emplace(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(flag), " \"", pattern,
                                                   "\" is not a valid regular expression: ",
                                                   e.what()));
  }
  return matcher;
}

bool NameMatcher::Matches(const std::string& value) const {
  return !regex_.has_value() || std::regex_search(value, *regex_);
}

bool ContainerUsesImage(const runtime::v1::Container& container, const std::string& image) {
  if (image.empty()) return true;
  if (container.image().image() == image || container.image_ref() == image) return true;

  // An id or id prefix matches the image id, with or without its "sha256:" prefix.
  const auto strip = [](std::string_view id) {
    if (id.starts_with("sha256:")) id.remove_prefix(7);
    return id;
  };
  const std::string_view expected_id = strip(image);
  for (const std::string* id : {&container.image_id(), &container.image_ref(),
                                &container.image().image()}) {
    const std::string_view candidate = strip(*id);
    if (!expected_id.empty() && candidate.size() == 64 && candidate.starts_with(expected_id)) {
      return true;
    }
  }
  return false;
}

}  // namespace berth::ctl
