#include "runtime/linux/container_init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/status.h"
#include "runtime/linux/process_setup.h"
#include "runtime/linux/rootfs.h"
#include "runtime/linux/sync_channel.h"
#include "runtime/linux/syscalls.h"
#include "runtime/linux/sysctl.h"

namespace berth::runtime {
namespace {

[[noreturn]] void Fail(const InitArgs& args, const absl::Status& status) {
  SendError(args.sync_fd, status);
  ::_exit(1);
}

void Check(const InitArgs& args, const absl::Status& status, const std::string& step) {
  if (!status.ok()) Fail(args, Annotate(status, step));
}

absl::Status ApplySysctls(Syscalls& sys, const Spec& spec) {
  for (const auto& [key, value] : spec.linux.sysctl) {
    BERTH_RETURN_IF_ERROR(
        Annotate(sys.WriteFile(SysctlPath(key), value), absl::StrCat("sysctl ", key)));
  }
  return absl::OkStatus();
}

// Creates the working directory when the image lacks it, as other runtimes do, then enters it.
absl::Status EnterCwd(Syscalls& sys, const std::string& cwd) {
  std::string dir = cwd.empty() ? "/" : cwd;
  BERTH_RETURN_IF_ERROR(sys.MakeDirs(dir));
  return sys.Chdir(dir);
}

// Blocks until the launcher writes the start byte. End of file means the launcher gave up on
// this container, so the process leaves without running anything.
void WaitForStart(const InitArgs& args) {
  char byte = 0;
  while (true) {
    ssize_t n = ::read(args.start_fd, &byte, 1);
    if (n == 1) return;
    if (n < 0 && errno == EINTR) continue;
    ::_exit(1);
  }
}

// For a root the launch helper mounted: the helper left the working directory on it, and clone
// moved that to this mount namespace's copy. The copy is locked to this namespace, which
// pivot_root refuses, so a fresh copy is stacked on top and returned.
absl::StatusOr<UniqueFd> RemountRootHere() {
  UniqueFd top(::open_tree(AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (!top) return ErrnoError(errno, "open_tree", ".");
  if (::move_mount(top.get(), "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return ErrnoError(errno, "move_mount", ".");
  }
  return top;
}

}  // namespace

void RunContainerInit(const InitArgs& args) {
  const Spec& spec = *args.spec;
  std::unique_ptr<Syscalls> sys = NewLinuxSyscalls();

  // Die with the shim while still being set up; cleared before execve.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Until execve this process runs the shim binary: a container process must not reach it
  // through /proc/<pid>/exe or ptrace. execve restores the flag for the container program.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::setsid();
  ::umask(0);

  if (!args.setup_note.empty()) SendWarning(args.sync_fd, args.setup_note);
  // Before the new root, /proc is still the host's, which has this process too.
  absl::StatusOr<std::string> oom_warning = ApplyOomScoreAdj(spec.process.oom_score_adj);
  Check(args, oom_warning.status(), "set oom_score_adj");
  if (!oom_warning->empty()) SendWarning(args.sync_fd, *oom_warning);

  RootfsOptions rootfs;
  rootfs.spec = &spec;
  rootfs.root = spec.root.path;
  UniqueFd root_here;
  if (args.root_mounted) {
    absl::StatusOr<UniqueFd> top = RemountRootHere();
    if (!top.ok())
      Fail(args, Annotate(top.status(), absl::StrCat("prepare rootfs ", spec.root.path)));
    root_here = *std::move(top);
    rootfs.root = absl::StrCat("/proc/self/fd/", root_here.get());
    rootfs.bind_trees = args.bind_trees;
  }
  rootfs.rootfs_mount = args.rootfs_mount;
  rootfs.root_mounted = args.root_mounted;
  rootfs.cgroup_dirs = args.cgroup_dirs;
  rootfs.page_size = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  Check(args, PrepareRootfs(*sys, rootfs), "prepare rootfs");

  if (!spec.hostname.empty()) {
    if (args.new_uts) {
      Check(args, sys->SetHostname(spec.hostname), "set hostname");
    } else {
      SendWarning(args.sync_fd, absl::StrCat("hostname \"", spec.hostname,
                                             "\" ignored: the UTS namespace is not new"));
    }
  }
  // Sysctls go before the read-only paths, which usually include /proc/sys.
  Check(args, ApplySysctls(*sys, spec), "apply sysctls");
  Check(args, FinishRootfs(*sys, spec), "finish rootfs");

  Check(args, ApplyRlimits(spec.process.rlimits), "set rlimits");
  Check(args, CheckCwdPath(spec.process.cwd.empty() ? "/" : spec.process.cwd), "enter cwd");
  Check(args, EnterCwd(*sys, spec.process.cwd), "enter cwd");
  Check(args, CheckCwdInsideRoot(spec.process.cwd), "enter cwd");
  ::umask(022);
  Check(args, CloseExtraFdsOnExec(), "close descriptors");
  Confinement none;
  const Confinement& confinement = args.confinement != nullptr ? *args.confinement : none;
  Check(args, ConfineBeforeCredentials(confinement), "confine");
  Check(args,
        ApplyUserAndCapabilities(spec.process.user, args.capabilities,
                                 spec.process.no_new_privileges),
        "set user and capabilities");

  absl::StatusOr<std::string> program = ResolveExecutable(spec.process);
  if (!program.ok()) Fail(args, program.status());

  SendReady(args.sync_fd);
  WaitForStart(args);
  ::close(args.start_fd);

  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  absl::Status confined = ConfineBeforeExec(confinement);
  if (!confined.ok()) Fail(args, Annotate(confined, "confine"));
  absl::Status failed = Execute(*program, spec.process);
  SendError(args.sync_fd, failed);
  ::_exit(127);
}

}  // namespace berth::runtime
