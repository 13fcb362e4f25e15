// Reading the list filters of `pods` and `ps` from their flags, and the filtering and ordering
// done on the client side.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/v1/api.pb.h"

namespace berth::ctl {

// Reads --label values of the form KEY=VALUE into a label selector. A value without '=' or
// with an empty key is InvalidArgument.
absl::StatusOr<std::map<std::string, std::string>> ParseLabelSelector(
    const std::vector<std::string>& labels);

// Reads a pod state: ready or notready, in any letter case, or the CRI names.
absl::StatusOr<runtime::v1::PodSandboxState> ParsePodState(std::string_view text);

// Reads a container state: created, running, exited or unknown, in any letter case, or the CRI
// names.
absl::StatusOr<runtime::v1::ContainerState> ParseContainerState(std::string_view text);

// A --name or --namespace filter: a regular expression (ECMAScript) that must match somewhere
// in the value. An empty pattern matches everything.
class NameMatcher {
 public:
  // A pattern that does not compile is InvalidArgument naming `flag`.
  static absl::StatusOr<NameMatcher> Create(const std::string& pattern, std::string_view flag);

  bool Matches(const std::string& value) const;

 private:
  std::optional<std::regex> regex_;
};

// Orders items newest first by created_at, then cuts the list: `latest` keeps one item, a
// positive `last` keeps that many.
template <typename T>
void NewestFirst(std::vector<T>* items, bool latest, int64_t last) {
  std::stable_sort(items->begin(), items->end(),
                   [](const T& a, const T& b) { return a.created_at() > b.created_at(); });
  if (latest) last = 1;
  if (last > 0 && static_cast<size_t>(last) < items->size()) {
    items->resize(static_cast<size_t>(last));
  }
}

// Whether a container runs `image`, given as a reference, an image id or a prefix of an id
// (with or without "sha256:").
bool ContainerUsesImage(const runtime::v1::Container& container, const std::string& image);

}  // namespace berth::ctl
