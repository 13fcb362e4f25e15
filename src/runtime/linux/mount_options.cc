#include "runtime/linux/mount_options.h"

#include <sys/mount.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace berth::runtime {
namespace {

struct FlagEffect {
  bool clear;
  unsigned long flag;
};

const std::map<std::string, FlagEffect>& FlagTable() {
  static const std::map<std::string, FlagEffect> table = {
      {"defaults", {false, 0}},
      {"ro", {false, MS_RDONLY}},
      {"rw", {true, MS_RDONLY}},
      {"nosuid", {false, MS_NOSUID}},
      {"suid", {true, MS_NOSUID}},
      {"nodev", {false, MS_NODEV}},
      {"dev", {true, MS_NODEV}},
      {"noexec", {false, MS_NOEXEC}},
      {"exec", {true, MS_NOEXEC}},
      {"sync", {false, MS_SYNCHRONOUS}},
      {"async", {true, MS_SYNCHRONOUS}},
      {"dirsync", {false, MS_DIRSYNC}},
      {"remount", {false, MS_REMOUNT}},
      {"mand", {false, MS_MANDLOCK}},
      {"nomand", {true, MS_MANDLOCK}},
      {"noatime", {false, MS_NOATIME}},
      {"atime", {true, MS_NOATIME}},
      {"nodiratime", {false, MS_NODIRATIME}},
      {"diratime", {true, MS_NODIRATIME}},
      {"relatime", {false, MS_RELATIME}},
      {"norelatime", {true, MS_RELATIME}},
      {"strictatime", {false, MS_STRICTATIME}},
      {"nostrictatime", {true, MS_STRICTATIME}},
      {"bind", {false, MS_BIND}},
      {"rbind", {false, MS_BIND | MS_REC}},
  };
  return table;
}

const std::map<std::string, unsigned long>& PropagationTable() {
  static const std::map<std::string, unsigned long> table = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  return table;
}

std::vector<std::string> Components(const std::string& path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

}  // namespace

ParsedMountOptions ParseMountOptions(const std::vector<std::string>& options) {
  ParsedMountOptions parsed;
  std::vector<std::string> data;
  for (const std::string& option : options) {
    if (auto flag = FlagTable().find(option); flag != FlagTable().end()) {
      if (flag->second.clear) {
        parsed.flags &= ~flag->second.flag;
      } else {
        parsed.flags |= flag->second.flag;
      }
      if (option == "bind" || option == "rbind") parsed.bind = true;
      continue;
    }
    if (auto propagation = PropagationTable().find(option);
        propagation != PropagationTable().end()) {
      parsed.propagation = propagation->second;
      continue;
    }
    data.push_back(option);
  }
  parsed.data = absl::StrJoin(data, ",");
  return parsed;
}

unsigned long RootPropagationFlags(const std::string& propagation) {
  if (propagation == "private") return MS_PRIVATE;
  if (propagation == "slave") return MS_SLAVE;
  if (propagation == "rslave") return MS_SLAVE | MS_REC;
  return MS_PRIVATE | MS_REC;
}

absl::StatusOr<OverlayData> FitOverlayData(const std::string& data, size_t page_size) {
  // mount(2) copies at most one page of data, terminating NUL included.
  if (data.size() < page_size) return OverlayData{data, ""};

  std::vector<std::string> options = absl::StrSplit(data, ',');
  std::vector<std::vector<std::string>> paths;
  for (const std::string& option : options) {
    for (const char* key : {"lowerdir=", "upperdir=", "workdir="}) {
      if (option.rfind(key, 0) != 0) continue;
      for (absl::string_view path : absl::StrSplit(option.substr(std::string(key).size()), ':')) {
        std::vector<std::string> components = Components(std::string(path));
        if (path.empty() || path[0] != '/' || components.empty()) {
          return absl::ResourceExhaustedError(
              absl::StrCat("overlay mount options are ", data.size(), " bytes, over the limit of ",
                           page_size - 1, ", and \"", std::string(path),
                           "\" is not an absolute path to shorten"));
        }
        paths.push_back(std::move(components));
      }
    }
  }
  if (paths.empty()) {
    return absl::ResourceExhaustedError(absl::StrCat("overlay mount options are ", data.size(),
                                                     " bytes, over the limit of ", page_size - 1));
  }

  // Longest common parent: every path keeps at least its last component.
  size_t common = paths[0].size() - 1;
  for (const auto& path : paths) {
    common = std::min(common, path.size() - 1);
    for (size_t i = 0; i < common; ++i) {
      if (path[i] != paths[0][i]) {
        common = i;
        break;
      }
    }
  }
  std::string prefix = "/" + absl::StrJoin(paths[0].begin(), paths[0].begin() + common, "/");
  std::string strip = prefix == "/" ? "/" : prefix + "/";

  std::vector<std::string> rewritten;
  for (const std::string& option : options) {
    auto equals = option.find('=');
    std::string key = equals == std::string::npos ? "" : option.substr(0, equals);
    if (key != "lowerdir" && key != "upperdir" && key != "workdir") {
      rewritten.push_back(option);
      continue;
    }
    std::vector<std::string> relative;
    for (absl::string_view path : absl::StrSplit(option.substr(equals + 1), ':')) {
      std::string value(path);
      if (value.rfind(strip, 0) == 0) value = value.substr(strip.size());
      relative.push_back(value);
    }
    rewritten.push_back(absl::StrCat(key, "=", absl::StrJoin(relative, ":")));
  }
  std::string shorter = absl::StrJoin(rewritten, ",");
  if (shorter.size() >= page_size) {
    return absl::ResourceExhaustedError(
        absl::StrCat("overlay mount options are ", data.size(), " bytes (", shorter.size(),
                     " relative to ", prefix, "), over the limit of ", page_size - 1,
                     " bytes: the image has too many layers for one overlay mount"));
  }
  return OverlayData{shorter, prefix};
}

}  // namespace berth::runtime
