// A private D-Bus bus with a stand-in for systemd's manager on it, for tests of the systemd cgroup
// driver. systemd cannot run on the test hosts (it is not PID 1 there), so the manager is
// berth-fake-systemd (fake_systemd_main.cc): it records each call with its properties and
// replies as systemd would, including the JobRemoved signal. It checks nothing of what systemd
// itself would check beyond unit names.
//
//   BERTH_ASSIGN_OR_RETURN(auto fake, FakeSystemd::Start());
//   setenv("DBUS_SYSTEM_BUS_ADDRESS", fake->address().c_str(), 1);
//   ... run Berth ...
//   std::vector<nlohmann::json> calls = fake->Calls("StartTransientUnit");
//
// The bus is Debian's dbus-daemon with a configuration file of its own (a unix socket in a
// temporary folder, everything allowed). The destructor ends both processes by their pids and
// removes the folder.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::e2e {

struct FakeSystemdOptions {
  // Whether to start the manager. False leaves a bus with no manager on it.
  bool start_manager = true;
  // Where the manager makes unit cgroups and moves PIDs, e.g. "/sys/fs/cgroup/pids"; empty
  // means it only records.
  std::string cgroup_root;
  // Units whose name contains this end their job with "failed".
  std::string fail_unit;
  // Units whose name contains this never see their job end.
  std::string silent_unit;
};

class FakeSystemd {
 public:
  // Starts dbus-daemon and, when `start_manager` is set, the manager, and waits (at most 10 s)
  // until the manager owns org.freedesktop.systemd1. Nothing is left running on failure.
  static absl::StatusOr<std::unique_ptr<FakeSystemd>> Start(FakeSystemdOptions options = {});

  ~FakeSystemd();
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  // The bus address, "unix:path=<folder>/bus".
  const std::string& address() const { return address_; }

  // An address in the same folder where nothing listens.
  std::string AbsentAddress() const;

  // The calls recorded so far, oldest first; with `method`, only those of that method.
  std::vector<nlohmann::json> Calls(const std::string& method = "") const;

  // From now on, units whose name contains `text` end their job with "failed" ("" for none).
  absl::Status SetFailUnit(const std::string& text);

  // The stderr of the manager and the bus, for failure messages.
  std::string Logs() const;

 private:
  FakeSystemd() = default;
  absl::Status Launch(const FakeSystemdOptions& options);
  void StopProcess(pid_t& pid);

  std::string dir_;
  std::string address_;
  std::string record_path_;
  std::string fail_unit_path_;
  pid_t bus_pid_ = -1;
  pid_t manager_pid_ = -1;
};

}  // namespace berth::e2e
