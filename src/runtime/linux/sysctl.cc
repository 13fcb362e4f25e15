#include "runtime/linux/sysctl.h"

#include <cctype>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::runtime {
namespace {

constexpr size_t kMaxValueSize = 4096;

absl::Status Bad(const std::string& key, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("invalid sysctl \"", key, "\": ", reason));
}

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/';
}

}  // namespace

std::string SysctlNamespaceType(const std::string& key) {
  if (absl::StartsWith(key, "net.")) return "network";
  if (absl::StartsWith(key, "kernel.shm") || absl::StartsWith(key, "kernel.msg") ||
      key == "kernel.sem" || absl::StartsWith(key, "fs.mqueue.")) {
    return "ipc";
  }
  if (key == "kernel.hostname" || key == "kernel.domainname") return "uts";
  return "";
}

absl::Status CheckSysctl(const std::string& key, const std::string& value) {
  if (key.empty()) return Bad(key, "the name is empty");
  for (absl::string_view part : absl::StrSplit(key, '.')) {
    if (part.empty()) return Bad(key, "the name has an empty part");
    for (char c : part) {
      if (!NameChar(c)) {
        return Bad(key, absl::StrCat("the name contains the character '", std::string(1, c), "'"));
      }
    }
    // "/" and "//" would become "." and ".." in the path.
    if (part.find_first_not_of('/') == absl::string_view::npos) {
      return Bad(key, "the name has a part made of slashes only");
    }
  }
  if (value.empty()) return Bad(key, "the value is empty");
  if (value.size() > kMaxValueSize) {
    return Bad(key, absl::StrCat("the value is longer than ", kMaxValueSize, " bytes"));
  }
  if (value.find_first_of(std::string("=;\n\r\0", 5)) != std::string::npos) {
    return Bad(key, "the value contains '=', ';', a line break or NUL, as if it set another key");
  }
  return absl::OkStatus();
}

std::string SysctlPath(const std::string& key) {
  std::string path = "/proc/sys/";
  for (char c : key) {
    if (c == '.') {
      path.push_back('/');
    } else if (c == '/') {
      path.push_back('.');
    } else {
      path.push_back(c);
    }
  }
  return path;
}

}  // namespace berth::runtime
