#include "runtime/linux/confinement.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd.h"
#include "base/status.h"
#include "runtime/linux/apparmor.h"

namespace berth::runtime {
namespace {

absl::Status OutsideRoot(const std::string& cwd, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("working directory \"", cwd, "\" ", why, ": refused"));
}

}  // namespace

absl::StatusOr<Confinement> PrepareConfinement(const Spec& spec, const Process& process) {
  Confinement confinement;
  confinement.no_new_privileges = process.no_new_privileges;
  confinement.apparmor_profile = process.apparmor_profile;
  if (spec.linux.seccomp) {
    absl::StatusOr<CompiledSeccomp> compiled = CompileSeccomp(*spec.linux.seccomp);
    if (!compiled.ok()) return Annotate(compiled.status(), "compile seccomp filter");
    confinement.seccomp = *std::move(compiled);
  }
  return confinement;
}

absl::Status ConfineBeforeCredentials(const Confinement& confinement) {
  if (!confinement.apparmor_profile.empty()) {
    BERTH_RETURN_IF_ERROR(SetAppArmorExecProfile(confinement.apparmor_profile));
  }
  if (confinement.seccomp && !confinement.no_new_privileges) {
    return Annotate(InstallSeccomp(*confinement.seccomp), "install seccomp filter");
  }
  return absl::OkStatus();
}

absl::Status ConfineBeforeExec(const Confinement& confinement) {
  if (confinement.seccomp && confinement.no_new_privileges) {
    return Annotate(InstallSeccomp(*confinement.seccomp), "install seccomp filter");
  }
  return absl::OkStatus();
}

absl::Status CheckCwdPath(const std::string& cwd) {
  // Each existing prefix is opened inside the root with magic links rejected. The first
  // missing prefix ends the walk, because mkdir creates only plain directories below it.
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return ErrnoError(errno, "open", "/");
  std::string prefix;
  for (absl::string_view part : absl::StrSplit(cwd, '/', absl::SkipEmpty())) {
    absl::StrAppend(&prefix, "/", part);
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, root.get(), prefix.c_str(), &how,
                                           sizeof(how))));
    if (fd) continue;
    if (errno == ENOENT) return absl::OkStatus();
    if (errno == ELOOP || errno == EXDEV) {
      return OutsideRoot(cwd, absl::StrCat("leads through the magic link ", prefix));
    }
    if (errno == ENOTDIR) return OutsideRoot(cwd, absl::StrCat("has a non-directory ", prefix));
    return ErrnoError(errno, "open", prefix);
  }
  return absl::OkStatus();
}

absl::Status CheckCwdInsideRoot(const std::string& cwd) {
  char buffer[PATH_MAX];
  // getcwd fails with ENOENT, or the kernel prefixes "(unreachable)", when the directory lies
  // outside the process's root.
  if (::getcwd(buffer, sizeof(buffer)) == nullptr) {
    if (errno == ENOENT) return OutsideRoot(cwd, "is outside the container's root");
    return ErrnoError(errno, "getcwd", cwd);
  }
  if (buffer[0] != '/') return OutsideRoot(cwd, "is outside the container's root");
  return absl::OkStatus();
}

}  // namespace berth::runtime
