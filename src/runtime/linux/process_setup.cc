#include "runtime/linux/process_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status.h"

namespace berth::runtime {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const std::map<std::string, int>& RlimitTable() {
  static const std::map<std::string, int> table = {
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  return table;
}

// The errno text in the lower case Go's exec package uses, which kubelet users know.
std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = absl::ascii_tolower(static_cast<unsigned char>(text[0]));
  return text;
}

absl::Status ExecError(int err, const std::string& program) {
  return absl::Status(ErrnoToCode(err), absl::StrCat("exec: \"", program, "\": ", ErrnoText(err)));
}

// Returns 0 when `path` is an executable regular file, else the errno execve would give.
int CheckExecutable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) return EACCES;
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) != 0) return errno;
  return 0;
}

}  // namespace

absl::Status ApplyRlimits(const std::vector<Rlimit>& rlimits) {
  for (const Rlimit& limit : rlimits) {
    auto it = RlimitTable().find(limit.type);
    if (it == RlimitTable().end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown rlimit type \"", limit.type, "\""));
    }
    struct rlimit value = {limit.soft, limit.hard};
    if (::setrlimit(it->second, &value) != 0) {
      return ErrnoError(errno, "setrlimit",
                        absl::StrCat(limit.type, " soft=", limit.soft, " hard=", limit.hard));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ApplyOomScoreAdj(std::optional<int> score) {
  if (!score) return std::string();
  auto write = [](int value) -> int {
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    std::string text = absl::StrCat(value);
    int err = ::write(fd, text.data(), text.size()) < 0 ? errno : 0;
    ::close(fd);
    return err;
  };
  int err = write(*score);
  if (err == 0) return std::string();
  if ((err == EPERM || err == EACCES) && *score < 0) {
    int retry = write(0);
    if (retry != 0) return ErrnoError(retry, "write /proc/self/oom_score_adj", "0");
    return absl::StrCat("oom_score_adj ", *score,
                        " needs CAP_SYS_RESOURCE, which this host does "
                        "not grant: using 0");
  }
  return ErrnoError(err, "write /proc/self/oom_score_adj", absl::StrCat(*score));
}

absl::Status ApplyUserAndCapabilities(const User& user, const CapabilitySets& caps,
                                      bool no_new_privileges) {
  BERTH_RETURN_IF_ERROR(DropBoundingSet(caps));

  // Keep the permitted set across the uid change; the effective set is rebuilt below.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrnoError(errno, "prctl(PR_SET_KEEPCAPS)");
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0) return ErrnoError(errno, "setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) {
    return ErrnoError(errno, "setgid", absl::StrCat(user.gid));
  }
  if (::setresuid(user.uid, user.uid, user.uid) != 0) {
    return ErrnoError(errno, "setuid", absl::StrCat(user.uid));
  }
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return ErrnoError(errno, "prctl(PR_SET_KEEPCAPS)");

  BERTH_RETURN_IF_ERROR(ApplyCapabilitySets(caps));

  if (no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoError(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  }
  return absl::OkStatus();
}

absl::Status CheckSingleThreaded() {
  struct stat st;
  if (::stat("/proc/self/task", &st) != 0) return ErrnoError(errno, "stat", "/proc/self/task");
  // A directory's link count is 2 plus its subdirectories, one per thread here.
  if (st.st_nlink != 3) {
    return absl::FailedPreconditionError(
        absl::StrCat("the launcher must run in a single-threaded process, this one has ",
                     st.st_nlink - 2, " threads"));
  }
  return absl::OkStatus();
}

std::string PathOf(const std::vector<std::string>& env) {
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
  }
  return kDefaultPath;
}

absl::StatusOr<std::string> ResolveExecutable(const Process& process) {
  if (process.args.empty()) return absl::InvalidArgumentError("process.args is empty");
  const std::string& program = process.args[0];
  if (program.empty()) return ExecError(ENOENT, program);
  if (program.find('/') != std::string::npos) {
    int err = CheckExecutable(program);
    if (err != 0) return ExecError(err, program);
    return program;
  }
  for (absl::string_view dir : absl::StrSplit(PathOf(process.env), ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
    if (CheckExecutable(candidate) == 0) return candidate;
  }
  return absl::NotFoundError(
      absl::StrCat("exec: \"", program, "\": executable file not found in $PATH"));
}

absl::Status CloseExtraFdsOnExec() {
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    return ErrnoError(errno, "close_range");
  }
  return absl::OkStatus();
}

absl::Status Execute(const std::string& path, const Process& process) {
  std::vector<char*> argv;
  for (const std::string& arg : process.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : process.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  return ExecError(errno, process.args[0]);
}

}  // namespace berth::runtime
