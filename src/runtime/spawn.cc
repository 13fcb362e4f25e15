#include "runtime/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/status.h"

extern char** environ;

namespace berth::runtime {

absl::StatusOr<pid_t> Spawn(const SpawnOptions& options) {
  // Everything the child needs is prepared here: after fork only async-signal-safe calls.
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const char* path = options.argv.at(0).c_str();
  int sources[4] = {-1, options.stdout_fd, options.stderr_fd, options.result_fd};

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError(errno, "fork", path);
  if (pid > 0) return pid;

  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) ::_exit(127);
  // Move every source above the targets first, so no dup2 overwrites a later source.
  int moved[4];
  for (int i = 0; i < 4; ++i) {
    int source = sources[i] >= 0 ? sources[i] : (i < 3 ? null : -1);
    moved[i] = source >= 0 ? ::fcntl(source, F_DUPFD_CLOEXEC, 10) : -1;
  }
  for (int i = 0; i < 4; ++i) {
    if (moved[i] >= 0 && ::dup2(moved[i], i) < 0) ::_exit(127);
  }
  int keep = options.result_fd >= 0 ? 4 : 3;
  ::syscall(SYS_close_range, static_cast<unsigned>(keep), ~0U, 0U);

  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(path, argv.data(), environ);
  ::_exit(127);
}

}  // namespace berth::runtime
