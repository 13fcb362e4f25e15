#include "cmd/berthctl/tables.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace berth::ctl {
namespace {

constexpr size_t kMinColumnWidth = 20;
constexpr size_t kColumnPadding = 3;

// The width a terminal gives the text: UTF-8 continuation bytes take no column.
size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

bool IsHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// The IMAGE column of `ps`: an image id is shortened like other ids, a reference is kept.
std::string ImageColumn(const runtime::v1::Container& container, bool no_trunc) {
  const std::string& image = container.image().image();
  const bool is_id = image.starts_with("sha256:") || (image.size() == 64 && IsHex(image));
  return is_id ? ShortId(image, no_trunc) : image;
}

}  // namespace

std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (row.size() > widths.size()) widths.resize(row.size(), kMinColumnWidth);
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]) + kColumnPadding);
    }
  }

  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - DisplayWidth(row[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

std::string HumanSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  while (size >= 1000 && unit + 1 < std::size(kUnits)) {
    size /= 1000;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3g%s", size, kUnits[unit]);
  return buffer;
}

std::string HumanDuration(int64_t nanos) {
  const int64_t seconds = std::max<int64_t>(nanos, 0) / 1000000000;
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return absl::StrCat(seconds, " seconds");

  const int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return absl::StrCat(minutes, " minutes");

  // Hours are rounded to the nearest hour, while longer units count whole ones.
  const int64_t hours = (seconds + 1800) / 3600;
  if (hours == 1) return "About an hour";
  if (hours < 48) return absl::StrCat(hours, " hours");
  if (hours < 24 * 7 * 2) return absl::StrCat(hours / 24, " days");
  if (hours < 24 * 30 * 2) return absl::StrCat(hours / 24 / 7, " weeks");
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / 24 / 30, " months");
  return absl::StrCat(seconds / 3600 / 24 / 365, " years");
}

std::string CreatedAgo(int64_t created_nanos, int64_t now_nanos) {
  return absl::StrCat(HumanDuration(now_nanos - created_nanos), " ago");
}

std::string ShortId(std::string_view id, bool no_trunc) {
  if (no_trunc) return std::string(id);
  if (id.starts_with("sha256:")) id.remove_prefix(7);
  return std::string(id.substr(0, kShortIdLength));
}

std::string PodStateName(runtime::v1::PodSandboxState state) {
  switch (state) {
    case runtime::v1::SANDBOX_READY:
      return "Ready";
    case runtime::v1::SANDBOX_NOTREADY:
      return "NotReady";
    default:
      return "Unknown";
  }
}

std::string ContainerStateName(runtime::v1::ContainerState state) {
  switch (state) {
    case runtime::v1::CONTAINER_CREATED:
      return "Created";
    case runtime::v1::CONTAINER_RUNNING:
      return "Running";
    case runtime::v1::CONTAINER_EXITED:
      return "Exited";
    default:
      return "Unknown";
  }
}

std::pair<std::string, std::string> SplitRepoTag(std::string_view reference) {
  const size_t colon = reference.rfind(':');
  const size_t slash = reference.rfind('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return {std::string(reference), "<none>"};
  }
  return {std::string(reference.substr(0, colon)), std::string(reference.substr(colon + 1))};
}

std::string PodsTable(const std::vector<runtime::v1::PodSandbox>& pods,
                      const TableOptions& options) {
  std::vector<std::vector<std::string>> rows = {
      {"POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"}};
  for (const auto& pod : pods) {
    rows.push_back({ShortId(pod.id(), options.no_trunc),
                    CreatedAgo(pod.created_at(), options.now_nanos), PodStateName(pod.state()),
                    pod.metadata().name(), pod.metadata().namespace_(),
                    absl::StrCat(pod.metadata().attempt()),
                    pod.runtime_handler().empty() ? "(default)" : pod.runtime_handler()});
  }
  return RenderTable(rows);
}

std::string ContainersTable(const std::vector<runtime::v1::Container>& containers,
                            const std::map<std::string, std::string>& pod_names,
                            const TableOptions& options) {
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"}};
  for (const auto& container : containers) {
    const auto pod_name = pod_names.find(container.pod_sandbox_id());
    rows.push_back({ShortId(container.id(), options.no_trunc),
                    ImageColumn(container, options.no_trunc),
                    CreatedAgo(container.created_at(), options.now_nanos),
                    ContainerStateName(container.state()), container.metadata().name(),
                    absl::StrCat(container.metadata().attempt()),
                    ShortId(container.pod_sandbox_id(), options.no_trunc),
                    pod_name == pod_names.end() ? "" : pod_name->second});
  }
  return RenderTable(rows);
}

std::string ImagesTable(const std::vector<runtime::v1::Image>& images, bool digests,
                        const TableOptions& options) {
  std::vector<std::vector<std::string>> rows;
  if (digests) {
    rows.push_back({"IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE"});
  } else {
    rows.push_back({"IMAGE", "TAG", "IMAGE ID", "SIZE"});
  }

  for (const auto& image : images) {
    // The digest column and the repository of an untagged image come from the first digest
    // reference, "repo@sha256:...".
    std::string digest_repo = "<none>";
    std::string digest = "<none>";
    if (image.repo_digests_size() > 0) {
      const std::string& reference = image.repo_digests(0);
      const size_t at = reference.find('@');
      if (at != std::string::npos) {
        digest_repo = reference.substr(0, at);
        digest = ShortId(reference.substr(at + 1), options.no_trunc);
      }
    }

    std::vector<std::pair<std::string, std::string>> tags;
    for (const std::string& tag : image.repo_tags()) tags.push_back(SplitRepoTag(tag));
    if (tags.empty()) tags.emplace_back(digest_repo, "<none>");

    for (const auto& [repo, tag] : tags) {
      std::vector<std::string> row = {repo, tag};
      if (digests) row.push_back(digest);
      row.push_back(ShortId(image.id(), options.no_trunc));
      row.push_back(HumanSize(image.size()));
      rows.push_back(std::move(row));
    }
  }
  return RenderTable(rows);
}

}  // namespace berth::ctl
