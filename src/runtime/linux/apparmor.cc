#include "runtime/linux/apparmor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/status.h"

namespace berth::runtime {

bool AppArmorEnabled() {
  absl::StatusOr<std::string> enabled = ReadFile("/sys/module/apparmor/parameters/enabled");
  return enabled.ok() && absl::StartsWith(*enabled, "Y");
}

bool AppArmorProfileLoaded(const std::string& name) {
  absl::StatusOr<std::string> profiles = ReadFile("/sys/kernel/security/apparmor/profiles");
  if (!profiles.ok()) return false;
  // Each line reads "<name> (<mode>)".
  for (absl::string_view line : absl::StrSplit(*profiles, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(" (", 1));
    if (!parts.empty() && parts[0] == name) return true;
  }
  return false;
}

absl::Status SetAppArmorExecProfile(const std::string& profile) {
  if (!AppArmorEnabled()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "AppArmor profile \"", profile, "\" requested, but AppArmor is not enabled on this host"));
  }
  std::string command = absl::StrCat("exec ", profile);
  for (const char* path : {"/proc/self/attr/apparmor/exec", "/proc/self/attr/exec"}) {
    UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) continue;
      return ErrnoError(errno, "open", path);
    }
    if (::write(fd.get(), command.data(), command.size()) < 0) {
      return ErrnoError(errno, "write", absl::StrCat(path, " (", command, ")"));
    }
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError("AppArmor: no /proc/self/attr exec file on this kernel");
}

}  // namespace berth::runtime
