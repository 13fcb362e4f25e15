#include "runtime/linux/cgroups_systemd.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::runtime {
namespace {

constexpr char kSliceSuffix[] = ".slice";

absl::Status BadUnit(const std::string& kind, const std::string& value, const std::string& reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid systemd ", kind, " \"", value, "\": ", reason));
}

// Checks that a unit name part stays inside its slice.
bool PlainName(const std::string& name) {
  return name.find('/') == std::string::npos && name.find('\0') == std::string::npos &&
         name != "." && name != "..";
}

}  // namespace

absl::StatusOr<std::string> ExpandSystemdSlice(const std::string& slice) {
  if (!absl::EndsWith(slice, kSliceSuffix) || slice.size() == sizeof(kSliceSuffix) - 1) {
    return BadUnit("slice", slice, "the name must end in \".slice\"");
  }
  if (!PlainName(slice)) return BadUnit("slice", slice, "the name must not contain '/'");
  if (slice == "-.slice") return std::string("/");

  std::string base = slice.substr(0, slice.size() - (sizeof(kSliceSuffix) - 1));
  std::string path;
  std::string prefix;
  for (absl::string_view part : absl::StrSplit(base, '-')) {
    if (part.empty()) return BadUnit("slice", slice, "the name has an empty part between dashes");
    prefix = prefix.empty() ? std::string(part) : absl::StrCat(prefix, "-", part);
    absl::StrAppend(&path, "/", prefix, kSliceSuffix);
  }
  return path;
}

absl::StatusOr<std::string> SystemdCgroupsPath(const std::string& systemd_path) {
  std::vector<std::string> parts = absl::StrSplit(systemd_path, ':');
  if (parts.size() != 3) {
    return BadUnit("cgroups path", systemd_path, "expected \"slice:prefix:name\"");
  }
  const std::string& slice = parts[0].empty() ? "system.slice" : parts[0];
  const std::string& prefix = parts[1];
  const std::string& name = parts[2];
  if (name.empty() || !PlainName(name) || !PlainName(prefix)) {
    return BadUnit("cgroups path", systemd_path, "prefix and name must be plain names");
  }
  absl::StatusOr<std::string> parent = ExpandSystemdSlice(slice);
  if (!parent.ok()) return parent.status();
  // A slice's place in the tree follows from its own name alone.
  if (absl::EndsWith(name, kSliceSuffix)) return ExpandSystemdSlice(name);
  std::string unit = absl::StrCat(prefix.empty() ? "" : prefix + "-", name, ".scope");
  return absl::StrCat(*parent == "/" ? "" : *parent, "/", unit);
}

bool IsSystemdCgroupsPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  if (absl::StrContains(path, ':')) return true;
  return absl::EndsWith(path, kSliceSuffix) && !absl::StrContains(path, '/');
}

absl::StatusOr<std::string> CgroupfsPath(const std::string& path) {
  if (!IsSystemdCgroupsPath(path)) return path;
  if (absl::StrContains(path, ':')) return SystemdCgroupsPath(path);
  return ExpandSystemdSlice(path);
}

}  // namespace berth::runtime
