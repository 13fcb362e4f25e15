#include "e2e/support/fake_systemd.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/daemon.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kReadyTimeout(10000);
constexpr milliseconds kStopTimeout(5000);
constexpr milliseconds kPoll(20);

// Everything allowed for everyone: the bus exists for one test only.
constexpr char kBusConfig[] = R"(<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>berth-test</type>
  <listen>unix:path=@SOCKET@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
)";

// Forks and runs `argv`, its stdout and stderr appended to `log`. The child dies with the test
// process, so a crashed test leaves nothing behind.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

bool Exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

// Asks the bus whether `name` has an owner. Fails while the bus does not accept connections yet.
absl::StatusOr<bool> NameHasOwner(const std::string& address, const std::string& name) {
  sd_bus* bus = nullptr;
  int r = sd_bus_new(&bus);
  if (r >= 0) r = sd_bus_set_address(bus, address.c_str());
  if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
  if (r >= 0) r = sd_bus_start(bus);
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  if (r >= 0) {
    r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "NameHasOwner", &error, &reply, "s",
                           name.c_str());
  }
  int owned = 0;
  if (r >= 0) r = sd_bus_message_read(reply, "b", &owned);
  sd_bus_message_unref(reply);
  sd_bus_error_free(&error);
  sd_bus_flush_close_unref(bus);
  if (r < 0) return absl::UnavailableError(absl::StrCat("bus ", address, ": ", std::strerror(-r)));
  return owned != 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeSystemd>> FakeSystemd::Start(FakeSystemdOptions options) {
  std::unique_ptr<FakeSystemd> fake(new FakeSystemd());
  absl::Status launched = fake->Launch(options);
  if (!launched.ok()) {
    std::string logs = fake->Logs();
    return absl::Status(launched.code(), absl::StrCat(launched.message(), "\n", logs));
  }
  return fake;
}

absl::Status FakeSystemd::Launch(const FakeSystemdOptions& options) {
  char dir_template[] = "/tmp/berth-fake-systemd.XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  dir_ = dir_template;
  std::string socket = JoinPath(dir_, "bus");
  address_ = "unix:path=" + socket;
  record_path_ = JoinPath(dir_, "calls.jsonl");
  fail_unit_path_ = JoinPath(dir_, "fail-unit");
  if (absl::Status written = WriteFile(fail_unit_path_, options.fail_unit); !written.ok()) {
    return written;
  }

  std::string config = kBusConfig;
  config.replace(config.find("@SOCKET@"), 8, socket);
  std::string config_path = JoinPath(dir_, "bus.conf");
  if (absl::Status written = WriteFile(config_path, config); !written.ok()) return written;
  absl::StatusOr<pid_t> bus =
      Spawn({"/usr/bin/dbus-daemon", "--config-file=" + config_path, "--nofork", "--nopidfile",
             "--nosyslog"},
            JoinPath(dir_, "bus.log"));
  if (!bus.ok()) return bus.status();
  bus_pid_ = *bus;

  steady_clock::time_point start = steady_clock::now();
  while (!NameHasOwner(address_, "org.freedesktop.DBus").ok()) {
    if (Exited(bus_pid_)) {
      bus_pid_ = -1;
      return absl::InternalError("dbus-daemon exited during start");
    }
    if (steady_clock::now() - start > kReadyTimeout) {
      return absl::DeadlineExceededError(
          "timed out waiting for dbus-daemon to accept connections");
    }
    std::this_thread::sleep_for(kPoll);
  }
  if (!options.start_manager) return absl::OkStatus();

  std::vector<std::string> argv = {JoinPath(BinaryDir(), "berth-fake-systemd"), "--address",
                                   address_, "--record", record_path_, "--fail-unit-file",
                                   fail_unit_path_};
  if (!options.cgroup_root.empty()) argv.insert(argv.end(), {"--cgroup-root", options.cgroup_root});
  if (!options.silent_unit.empty()) {
    argv.insert(argv.end(), {"--silent-unit", options.silent_unit});
  }
  absl::StatusOr<pid_t> manager = Spawn(argv, JoinPath(dir_, "manager.log"));
  if (!manager.ok()) return manager.status();
  manager_pid_ = *manager;
  start = steady_clock::now();
  while (true) {
    absl::StatusOr<bool> owned = NameHasOwner(address_, "org.freedesktop.systemd1");
    if (owned.ok() && *owned) return absl::OkStatus();
    if (Exited(manager_pid_)) {
      manager_pid_ = -1;
      return absl::InternalError("berth-fake-systemd exited during start");
    }
    if (steady_clock::now() - start > kReadyTimeout) {
      return absl::DeadlineExceededError(
          "timed out waiting for berth-fake-systemd to own org.freedesktop.systemd1");
    }
    std::this_thread::sleep_for(kPoll);
  }
}

FakeSystemd::~FakeSystemd() {
  StopProcess(manager_pid_);
  StopProcess(bus_pid_);
  if (!dir_.empty()) (void)RemoveAll(dir_);
}

void FakeSystemd::StopProcess(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  steady_clock::time_point start = steady_clock::now();
  while (!Exited(pid)) {
    if (steady_clock::now() - start > kStopTimeout) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(kPoll);
  }
  pid = -1;
}

absl::Status FakeSystemd::SetFailUnit(const std::string& text) {
  return ReplaceFile(fail_unit_path_, text);
}

std::string FakeSystemd::AbsentAddress() const {
  return "unix:path=" + JoinPath(dir_, "no-bus-here");
}

std::vector<nlohmann::json> FakeSystemd::Calls(const std::string& method) const {
  std::vector<nlohmann::json> calls;
  std::ifstream in(record_path_);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json call = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (call.is_discarded()) continue;
    if (method.empty() || call.value("method", "") == method) calls.push_back(std::move(call));
  }
  return calls;
}

std::string FakeSystemd::Logs() const {
  std::string logs;
  for (const char* name : {"manager.log", "bus.log"}) {
    absl::StatusOr<std::string> text = ReadFile(JoinPath(dir_, name));
    if (text.ok() && !text->empty()) absl::StrAppend(&logs, name, ":\n", *text);
  }
  return logs;
}

}  // namespace berth::e2e
