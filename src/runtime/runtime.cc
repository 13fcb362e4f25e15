#include "runtime/runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/launcher.h"
#include "runtime/linux/systemd_units.h"
#include "runtime/shim/protocol.h"
#include "runtime/shim/shim_files.h"
#include "runtime/spawn.h"

namespace berth::runtime {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr absl::Duration kShimExitTimeout = absl::Seconds(10);

absl::Status ValidateId(const std::string& id) {
  bool valid = !id.empty() && id.size() <= 128 && id != "." && id != "..";
  for (char c : id) {
    valid =
        valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  }
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid container id \"", id, "\": use 1-128 of [A-Za-z0-9_.-]"));
}

// Reads the response line the shim writes to the result pipe. It stops at the newline rather than
// at end of file, because the blocked container process still holds a copy of the pipe.
absl::StatusOr<std::string> ReadResult(int fd, absl::Time deadline) {
  std::string data;
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    struct pollfd poll_fd = {fd, POLLIN, 0};
    int ready = ::poll(&poll_fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return ErrnoError(errno, "poll", "shim result pipe");
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read", "shim result pipe");
    }
    if (n == 0) return data;
    data.append(chunk, static_cast<size_t>(n));
    auto newline = data.find('\n');
    if (newline != std::string::npos) return data.substr(0, newline);
  }
}

// The last lines of the shim's log, for an error when the shim died without responding.
std::string LogTail(const ShimPaths& paths) {
  absl::StatusOr<std::string> log = ReadFile(paths.log());
  if (!log.ok() || log->empty()) return "no shim log";
  std::string tail = log->size() > 600 ? log->substr(log->size() - 600) : *log;
  return std::string(absl::StripTrailingAsciiWhitespace(tail));
}

absl::StatusOr<ContainerState> ReadStateFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path));
  return StateFromJson(json);
}

// Returns the pid in `path` when that process is still a berth-shim (guards against pid reuse).
pid_t LiveShimPid(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  int pid = 0;
  if (!text.ok() || !absl::SimpleAtoi(*text, &pid) || pid <= 0) return 0;
  absl::StatusOr<std::string> cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
  if (!cmdline.ok() || cmdline->find("berth-shim") == std::string::npos) return 0;
  return pid;
}

}  // namespace

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {}

std::string Runtime::DirOf(const std::string& id) const { return JoinPath(options_.state_dir, id); }

absl::Status Runtime::CheckKnown(const std::string& id) const {
  BERTH_RETURN_IF_ERROR(ValidateId(id));
  if (!PathExists(DirOf(id)))
    return absl::NotFoundError(absl::StrCat("container ", id, " not found"));
  return absl::OkStatus();
}

absl::StatusOr<ContainerState> Runtime::Create(const CreateRequest& request) {
  BERTH_RETURN_IF_ERROR(ValidateId(request.id));
  BERTH_RETURN_IF_ERROR(ValidateSpec(request.spec));
  // The shim works from "/", so relative paths would point elsewhere.
  if (request.bundle_dir.empty() || request.bundle_dir[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("bundle_dir must be absolute: \"", request.bundle_dir, "\""));
  }
  if (!request.log_path.empty() && request.log_path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("log_path must be absolute: \"", request.log_path, "\""));
  }
  auto log = Logger("runtime");
  ShimPaths paths{DirOf(request.id)};

  BERTH_RETURN_IF_ERROR(MakeDirs(options_.state_dir, 0711));
  if (::mkdir(paths.dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat("container ", request.id, " already exists"));
    }
    return ErrnoError(errno, "mkdir", paths.dir);
  }
  CleanupStack cleanup;
  cleanup.Push("remove shim state", [this, id = request.id] { return ForceCleanup(id); });

  BERTH_RETURN_IF_ERROR(MakeDirs(request.bundle_dir, 0700));
  BERTH_RETURN_IF_ERROR(WriteSpecFile(JoinPath(request.bundle_dir, "config.json"), request.spec));
  LaunchRecord record{request.id, request.bundle_dir, request.rootfs_mount, request.log_path,
                      ContainerCgroupsPath(request.spec, request.id)};
  BERTH_RETURN_IF_ERROR(WriteLaunchRecord(paths.launch(), record));

  int result_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  UniqueFd result_read(result_pipe[0]);
  UniqueFd result_write(result_pipe[1]);
  SpawnOptions spawn;
  spawn.argv = {options_.shim_path, "create", "--state-dir", paths.dir, "--result-fd", "3"};
  spawn.result_fd = result_write.get();
  BERTH_ASSIGN_OR_RETURN(pid_t starter, Spawn(spawn));
  result_write.Reset();
  // The first shim process only forks the daemon and exits.
  int starter_status = 0;
  while (::waitpid(starter, &starter_status, 0) < 0 && errno == EINTR) {
  }

  absl::StatusOr<std::string> line =
      ReadResult(result_read.get(), absl::Now() + options_.create_timeout);
  if (!line.ok()) {
    return Annotate(line.status(), absl::StrCat("create container ", request.id));
  }
  if (line->empty()) {
    return absl::InternalError(absl::StrCat("create container ", request.id,
                                            ": the shim exited without a response (status ",
                                            starter_status, "): ", LogTail(paths)));
  }
  nlohmann::json response = nlohmann::json::parse(*line, nullptr, false);
  if (response.is_discarded() || !response.is_object()) {
    return absl::InternalError(absl::StrCat("invalid response from the shim: ", *line));
  }
  if (!response.value("ok", false)) {
    int code = response.value("code", static_cast<int>(absl::StatusCode::kInternal));
    return absl::Status(static_cast<absl::StatusCode>(code),
                        response.value("error", "create failed"));
  }
  BERTH_ASSIGN_OR_RETURN(ContainerState state, StateFromJson(response["state"]));
  cleanup.Disarm();
  log->info("container created container={} pid={}", request.id, state.pid);
  return state;
}

absl::Status Runtime::Start(const std::string& id) {
  BERTH_RETURN_IF_ERROR(CheckKnown(id));
  ShimPaths paths{DirOf(id)};
  absl::StatusOr<nlohmann::json> response =
      CallShim(paths.socket(), {{"op", "start"}}, absl::Now() + kCallTimeout);
  if (absl::IsUnavailable(response.status()) && PathExists(paths.exit())) {
    return absl::FailedPreconditionError(absl::StrCat("container ", id, " has already exited"));
  }
  if (!response.ok()) return Annotate(response.status(), absl::StrCat("start container ", id));
  Logger("runtime")->info("container started container={}", id);
  return absl::OkStatus();
}

absl::Status Runtime::Kill(const std::string& id, int signal, bool all) {
  BERTH_RETURN_IF_ERROR(CheckKnown(id));
  ShimPaths paths{DirOf(id)};
  absl::StatusOr<nlohmann::json> response =
      CallShim(paths.socket(), {{"op", "kill"}, {"signal", signal}, {"all", all}},
               absl::Now() + kCallTimeout);
  if (response.ok() || !absl::IsUnavailable(response.status())) return response.status();
  if (PathExists(paths.exit())) return absl::OkStatus();

  // The shim is gone without an exit record: signal whatever still runs in the cgroup.
  BERTH_ASSIGN_OR_RETURN(LaunchRecord record, ReadLaunchRecord(paths.launch()));
  BERTH_ASSIGN_OR_RETURN(CgroupLayout layout, DetectCgroupLayout());
  BERTH_ASSIGN_OR_RETURN(std::vector<CgroupDir> dirs, CgroupDirsFor(layout, record.cgroups_path));
  absl::StatusOr<std::vector<pid_t>> pids = CgroupPids(dirs);
  if (pids.ok()) {
    for (pid_t pid : *pids) ::kill(pid, signal);
  }
  return absl::OkStatus();
}

absl::Status Runtime::ReopenLog(const std::string& id) {
  BERTH_RETURN_IF_ERROR(CheckKnown(id));
  ShimPaths paths{DirOf(id)};
  absl::StatusOr<nlohmann::json> response =
      CallShim(paths.socket(), {{"op", "reopen-log"}}, absl::Now() + kCallTimeout);
  if (absl::IsUnavailable(response.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", id, " is not running: no log to reopen"));
  }
  return Annotate(response.status(), absl::StrCat("reopen log of container ", id));
}

absl::StatusOr<ContainerState> Runtime::State(const std::string& id) {
  BERTH_RETURN_IF_ERROR(CheckKnown(id));
  ShimPaths paths{DirOf(id)};
  absl::StatusOr<nlohmann::json> response =
      CallShim(paths.socket(), {{"op", "state"}}, absl::Now() + kCallTimeout);
  if (response.ok()) return StateFromJson(*response);
  if (!absl::IsUnavailable(response.status())) return response.status();

  if (PathExists(paths.exit())) return ReadStateFile(paths.exit());
  absl::StatusOr<ContainerState> last = ReadStateFile(paths.state());
  ContainerState state = last.ok() ? *last : ContainerState{};
  state.id = id;
  state.status = ContainerStatus::kUnknown;
  state.reason = "ShimGone";
  state.message = absl::StrCat("the shim of container ", id, " is gone without an exit record");
  return state;
}

absl::StatusOr<ContainerState> Runtime::Wait(const std::string& id, absl::Duration timeout) {
  BERTH_RETURN_IF_ERROR(CheckKnown(id));
  ShimPaths paths{DirOf(id)};
  absl::StatusOr<nlohmann::json> response =
      CallShim(paths.socket(), {{"op", "wait"}}, absl::Now() + timeout);
  if (response.ok()) return StateFromJson(*response);
  if (absl::IsDeadlineExceeded(response.status())) {
    return absl::DeadlineExceededError(
        absl::StrCat("container ", id, " still running after ", absl::FormatDuration(timeout)));
  }
  if (!absl::IsUnavailable(response.status())) return response.status();
  return State(id);
}

absl::Status Runtime::AwaitShimExit(const std::string& id, absl::Duration timeout) {
  ShimPaths paths{DirOf(id)};
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pid_t pid = LiveShimPid(paths.shim_pid());
    if (pid == 0) return absl::OkStatus();

    // A pidfd becomes readable the moment the shim exits, so Delete does not pay a polling
    // interval. The next turn of the loop checks the pid again, which covers its reuse between
    // LiveShimPid and pidfd_open. Without pidfds (ENOSYS) the loop polls every 20 ms.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    int64_t left_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(deadline - absl::Now()));
    struct pollfd poll_fd = {pidfd.get(), POLLIN, 0};
    ::poll(&poll_fd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
  }
  return absl::DeadlineExceededError(absl::StrCat("shim of container ", id, " did not exit"));
}

absl::Status Runtime::ForceCleanup(const std::string& id) {
  ShimPaths paths{DirOf(id)};
  pid_t shim = LiveShimPid(paths.shim_pid());
  if (shim > 0) ::kill(shim, SIGKILL);

  absl::StatusOr<LaunchRecord> record = ReadLaunchRecord(paths.launch());
  absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout();
  if (record.ok() && !record->cgroups_path.empty() && layout.ok()) {
    absl::StatusOr<std::vector<CgroupDir>> dirs = CgroupDirsFor(*layout, record->cgroups_path);
    // Only a container this shim created owns the cgroup's processes. Before that, the cgroup
    // may hold those of another container given the same cgroupsPath by mistake, so it is only
    // removed if empty, and a failure is no reason to keep the state directory.
    bool owned = PathExists(paths.container_pid());
    if (dirs.ok() && owned) {
      BERTH_RETURN_IF_ERROR(StopContainerScope(record->cgroups_path));
      // Nothing may outlive the container: kill what is left in its cgroup, then remove it.
      for (int attempt = 0; attempt < 100; ++attempt) {
        absl::StatusOr<std::vector<pid_t>> pids = CgroupPids(*dirs);
        if (!pids.ok() || pids->empty()) break;
        for (pid_t pid : *pids) ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      BERTH_RETURN_IF_ERROR(RemoveCgroupDirs(*dirs));
    } else if (dirs.ok()) {
      (void)RemoveCgroupDirs(*dirs, absl::ZeroDuration());
    }
  }
  return RemoveAll(paths.dir);
}

absl::Status Runtime::Delete(const std::string& id) {
  BERTH_RETURN_IF_ERROR(ValidateId(id));
  if (!PathExists(DirOf(id))) return absl::OkStatus();
  BERTH_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status == ContainerStatus::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", id, " is running: stop it before deleting it"));
  }
  if (state.status == ContainerStatus::kCreated) {
    BERTH_RETURN_IF_ERROR(Kill(id, SIGKILL));
    absl::StatusOr<ContainerState> waited = Wait(id, kShimExitTimeout);
    if (!waited.ok()) return Annotate(waited.status(), absl::StrCat("delete container ", id));
  }
  absl::Status exited = AwaitShimExit(id, kShimExitTimeout);
  if (!exited.ok()) {
    Logger("runtime")->warn("shim did not exit, killing it container={}", id);
  }
  BERTH_RETURN_IF_ERROR(Annotate(ForceCleanup(id), absl::StrCat("delete container ", id)));
  Logger("runtime")->info("container deleted container={}", id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Runtime::List() {
  std::vector<std::string> ids;
  DIR* dir = ::opendir(options_.state_dir.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return ids;
    return ErrnoError(errno, "opendir", options_.state_dir);
  }
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (ValidateId(name).ok() && PathExists(JoinPath(DirOf(name), "launch.json"))) {
      ids.push_back(name);
    }
  }
  ::closedir(dir);
  return ids;
}

Process ExecProcessFor(const Process& container, std::vector<std::string> args,
                       const std::vector<std::string>& env) {
  Process process = container;
  process.args = std::move(args);
  process.terminal = false;
  for (const std::string& entry : env) {
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (std::string& existing : process.env) {
      if (existing.substr(0, existing.find('=')) == name) {
        existing = entry;
        replaced = true;
      }
    }
    if (!replaced) process.env.push_back(entry);
  }
  return process;
}

}  // namespace berth::runtime
