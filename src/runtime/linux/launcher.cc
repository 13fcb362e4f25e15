#include "runtime/linux/launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/cleanup.h"
#include "base/status.h"
#include "runtime/linux/capabilities.h"
#include "runtime/linux/container_init.h"
#include "runtime/linux/process_setup.h"
#include "runtime/linux/sync_channel.h"
#include "runtime/linux/systemd_units.h"
#include "runtime/linux/userns_rootfs.h"

namespace berth::runtime {
namespace {

// Joined namespaces in the order they are entered. A user namespace comes after them all. The
// mount namespace is never joined by path (ValidateSpec rejects it).
constexpr const char* kJoinOrder[] = {"ipc", "uts", "network", "pid", "cgroup"};

// Restores what a child of the shim must not inherit: blocked signals and handlers.
void ResetSignals() {
  sigset_t all;
  ::sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);
  }
}

absl::Status MoveFd(int from, int to) {
  if (from == to) {
    // Already in place: only the close-on-exec flag must go.
    int flags = ::fcntl(to, F_GETFD);
    if (flags < 0 || ::fcntl(to, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
      return ErrnoError(errno, "fcntl", absl::StrCat("fd ", to));
    }
    return absl::OkStatus();
  }
  if (::dup2(from, to) < 0) return ErrnoError(errno, "dup2", absl::StrCat("fd ", to));
  return absl::OkStatus();
}

// Joins the namespaces given by path, except a user namespace: that one is only opened, into
// `userns`, because it must be joined last (see RunHelper).
absl::Status JoinNamespaces(const Spec& spec, UniqueFd* userns) {
  std::vector<std::pair<UniqueFd, const Namespace*>> joins;
  // Open every file first: joining one namespace (pid, net) can change what a later path means.
  const Namespace* user = FindNamespace(spec, "user");
  if (user != nullptr && !user->path.empty()) {
    *userns = UniqueFd(::open(user->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!*userns) return Annotate(ErrnoError(errno, "open", user->path), "join user namespace");
  }
  for (const char* type : kJoinOrder) {
    const Namespace* ns = FindNamespace(spec, type);
    if (ns == nullptr || ns->path.empty()) continue;
    UniqueFd fd(::open(ns->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
      return Annotate(ErrnoError(errno, "open", ns->path),
                      absl::StrCat("join ", type, " namespace"));
    joins.emplace_back(std::move(fd), ns);
  }
  for (const auto& [fd, ns] : joins) {
    if (::setns(fd.get(), NamespaceFlag(ns->type)) != 0) {
      return ErrnoError(errno, absl::StrCat("setns (", ns->type, ")"), ns->path);
    }
  }
  return absl::OkStatus();
}

// Prepares a container in a user namespace: mounts its root and detaches its bind sources while
// the helper still has the host's credentials, then joins the user namespace. `spec` becomes the
// copy the container process gets, rewritten to reach what was prepared, and `init` records it.
absl::Status EnterUsernsForContainer(const LaunchRequest& request, int userns, Spec& spec,
                                     InitArgs& init, std::vector<UniqueFd>& descriptors) {
  spec = request.spec;
  auto ownership = spec.annotations.find(kUsernsOwnershipAnnotation);
  bool allow_idmap = ownership == spec.annotations.end() || ownership->second != "chown";
  absl::StatusOr<UsernsRootfs> prepared =
      PrepareUsernsRootfs(spec, request.rootfs_mount, userns, allow_idmap);
  if (!prepared.ok()) return Annotate(prepared.status(), "prepare rootfs for the user namespace");
  descriptors = std::move(prepared->descriptors);
  init.spec = &spec;
  init.rootfs_mount.reset();
  init.root_mounted = true;
  init.bind_trees = prepared->bind_trees;
  if (prepared->mode == OwnershipMode::kChown && request.rootfs_mount) {
    init.setup_note = absl::StrCat(
        "user namespace: image files were chowned into the namespace's range because idmapped "
        "layers are not available (",
        prepared->note, ")");
  }
  return EnterUserns(userns);
}

int NewNamespaceFlags(const Spec& spec) {
  int flags = 0;
  for (const Namespace& ns : spec.linux.namespaces) {
    if (ns.path.empty()) flags |= NamespaceFlag(ns.type);
  }
  return flags;
}

// The helper process: joins the cgroup and the namespaces given by path, then clones the
// container process, reports its pid and exits.
[[noreturn]] void RunHelper(const LaunchRequest& request, InitArgs init,
                            const std::vector<CgroupDir>& dirs) {
  int sync = init.sync_fd;
  ResetSignals();
  absl::Status status = MoveFd(request.stdin_fd, 0);
  if (status.ok()) status = MoveFd(request.stdout_fd, 1);
  if (status.ok()) status = MoveFd(request.stderr_fd, 2);
  if (status.ok()) status = Annotate(JoinCgroupDirs(dirs, ::getpid()), "join cgroup");
  UniqueFd userns;
  if (status.ok()) status = JoinNamespaces(request.spec, &userns);
  // Kept alive until the container process is cloned, which inherits them.
  Spec userns_spec;
  std::vector<UniqueFd> descriptors;
  if (status.ok() && userns) {
    status = EnterUsernsForContainer(request, userns.get(), userns_spec, init, descriptors);
  }
  if (!status.ok()) {
    SendError(sync, status);
    ::_exit(1);
  }

  unsigned long flags = static_cast<unsigned long>(NewNamespaceFlags(request.spec)) | CLONE_PARENT;
  long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    SendError(sync, ErrnoError(errno, "clone", absl::StrCat("flags=0x", absl::Hex(flags))));
    ::_exit(1);
  }
  if (pid == 0) RunContainerInit(init);
  SendPid(sync, static_cast<pid_t>(pid));
  ::_exit(0);
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// Reads messages until "ready" (OK), an error, or the end of the channel.
absl::Status AwaitReady(SyncReader& reader, absl::Time deadline, const WarningSink& warn) {
  while (true) {
    BERTH_ASSIGN_OR_RETURN(SyncMessage message, reader.Next(deadline));
    switch (message.kind) {
      case SyncMessage::Kind::kReady:
        return absl::OkStatus();
      case SyncMessage::Kind::kWarning:
        warn(message.warning);
        break;
      case SyncMessage::Kind::kError:
        return message.error;
      case SyncMessage::Kind::kPid:
        break;
      case SyncMessage::Kind::kEndOfFile:
        return absl::InternalError("container process exited during setup without a message");
    }
  }
}

}  // namespace

int NamespaceFlag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "user") return CLONE_NEWUSER;
  return 0;
}

std::string ContainerCgroupsPath(const Spec& spec, const std::string& id) {
  if (!spec.linux.cgroups_path.empty()) return spec.linux.cgroups_path;
  return absl::StrCat("/berth/", id);
}

absl::StatusOr<std::vector<CgroupDir>> ContainerCgroupDirs(const Spec& spec,
                                                           const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(CgroupLayout layout, DetectCgroupLayout());
  return CgroupDirsFor(layout, ContainerCgroupsPath(spec, id));
}

absl::Status CreatedContainer::Start(absl::Duration timeout) {
  if (!start_) return absl::FailedPreconditionError("container process was already started");
  char byte = 1;
  ssize_t written = ::write(start_.get(), &byte, 1);
  int err = errno;
  start_.Reset();
  if (written != 1) return ErrnoError(err, "write", "start pipe");

  SyncReader reader(sync_.get());
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(SyncMessage message, reader.Next(deadline));
    if (message.kind == SyncMessage::Kind::kEndOfFile) break;
    if (message.kind == SyncMessage::Kind::kError) {
      sync_.Reset();
      return message.error;
    }
  }
  sync_.Reset();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CreatedContainer>> CreateContainer(const LaunchRequest& request,
                                                                  const WarningSink& warn) {
  const Spec& spec = request.spec;
  BERTH_RETURN_IF_ERROR(CheckSingleThreaded());
  BERTH_RETURN_IF_ERROR(ValidateSpec(spec));
  if (spec.root.path.empty() || spec.root.path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("root.path must be absolute for the launcher: \"", spec.root.path, "\""));
  }
  CleanupStack cleanup;

  std::vector<std::string> dropped;
  BERTH_ASSIGN_OR_RETURN(CapabilitySets caps,
                         ResolveCapabilities(spec.process.capabilities, &dropped));
  for (const std::string& name : dropped) {
    warn(absl::StrCat("capability ", name, " is not available on this host: left out"));
  }

  // The cgroup comes first, so the container process is born in it.
  BERTH_ASSIGN_OR_RETURN(CgroupLayout layout, DetectCgroupLayout());
  BERTH_RETURN_IF_ERROR(ValidateResourcesFor(layout, spec.linux.resources));
  BERTH_ASSIGN_OR_RETURN(std::vector<CgroupDir> dirs,
                         CgroupDirsFor(layout, ContainerCgroupsPath(spec, request.id)));
  absl::StatusOr<std::vector<pid_t>> existing = CgroupPids(dirs);
  if (existing.ok() && !existing->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup ", dirs[0].path, " is in use by ", existing->size(), " processes"));
  }
  absl::StatusOr<std::vector<std::string>> created = CreateCgroupDirs(layout, dirs);
  cleanup.Push("remove cgroup", [dirs] { return RemoveCgroupDirs(dirs); });
  if (!created.ok()) return Annotate(created.status(), "create cgroup");
  BERTH_RETURN_IF_ERROR(Annotate(
      ApplyCgroupWrites(PlanResourceWrites(layout, dirs, spec.linux.resources, spec.linux.devices)),
      "apply cgroup resources"));

  int sync_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync_pair) != 0) {
    return ErrnoError(errno, "socketpair");
  }
  UniqueFd sync_parent(sync_pair[0]);
  UniqueFd sync_child(sync_pair[1]);
  int start_pipe[2];
  if (::pipe2(start_pipe, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  UniqueFd start_read(start_pipe[0]);
  UniqueFd start_write(start_pipe[1]);

  BERTH_ASSIGN_OR_RETURN(Confinement confinement, PrepareConfinement(spec, spec.process));

  InitArgs init;
  init.spec = &spec;
  init.confinement = &confinement;
  init.rootfs_mount = request.rootfs_mount;
  init.cgroup_dirs = dirs;
  init.capabilities = caps;
  const Namespace* uts = FindNamespace(spec, "uts");
  init.new_uts = uts != nullptr && uts->path.empty();
  init.sync_fd = sync_child.get();
  init.start_fd = start_read.get();

  pid_t helper = ::fork();
  if (helper < 0) return ErrnoError(errno, "fork");
  if (helper == 0) {
    sync_parent.Reset();
    start_write.Reset();
    RunHelper(request, init, dirs);
  }
  sync_child.Reset();
  start_read.Reset();

  SyncReader reader(sync_parent.get());
  absl::Time deadline = absl::Now() + request.setup_timeout;
  absl::StatusOr<SyncMessage> first = reader.Next(deadline);
  // The container process may warn before the helper reported its pid.
  while (first.ok() && first->kind == SyncMessage::Kind::kWarning) {
    warn(first->warning);
    first = reader.Next(deadline);
  }
  int helper_status = 0;
  while (::waitpid(helper, &helper_status, 0) < 0 && errno == EINTR) {
  }
  if (!first.ok()) return first.status();
  if (first->kind == SyncMessage::Kind::kError) return first->error;
  if (first->kind != SyncMessage::Kind::kPid) {
    return absl::InternalError(absl::StrCat(
        "launch helper exited without creating the container, status ", helper_status));
  }
  pid_t pid = first->pid;
  cleanup.Push("kill container process", [pid] {
    KillAndReap(pid);
    return absl::OkStatus();
  });
  std::string cgroups_path = ContainerCgroupsPath(spec, request.id);
  BERTH_RETURN_IF_ERROR(StartContainerScope(cgroups_path, pid, spec.linux.resources));
  cleanup.Push("stop systemd scope", [cgroups_path] { return StopContainerScope(cgroups_path); });

  BERTH_RETURN_IF_ERROR(AwaitReady(reader, deadline, warn));
  cleanup.Disarm();
  return std::make_unique<CreatedContainer>(pid, std::move(sync_parent), std::move(start_write),
                                            std::move(dirs));
}

}  // namespace berth::runtime
