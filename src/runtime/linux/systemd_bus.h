// A small client of systemd's manager over D-Bus (service org.freedesktop.systemd1, object
// /org/freedesktop/systemd1, interface org.freedesktop.systemd1.Manager), built on sd-bus.
//
// It makes the two calls the systemd cgroup driver needs: StartTransientUnit, which creates a
// transient slice or scope, and StopUnit. Both return a job; each call waits, bounded, for the
// manager's JobRemoved signal of that job and checks that its result is "done".
//
//   BERTH_ASSIGN_OR_RETURN(std::unique_ptr<SystemdBus> bus, SystemdBus::Connect());
//   BERTH_RETURN_IF_ERROR(bus->StartTransientUnit("pod1.slice", {{"Description", std::string("pod")}}));
//
// Errors: Unavailable when the bus cannot be reached or no systemd manager is on it (the caller
// may then fall back to plain cgroupfs). Any other code is an error reply from systemd itself,
// and its message names the unit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct sd_bus;
struct sd_bus_slot;

namespace berth::runtime {

// The value of one unit property. The D-Bus type follows from the C++ one: bool "b",
// uint64_t "t", std::string "s", std::vector<uint32_t> "au".
using SystemdValue = std::variant<bool, uint64_t, std::string, std::vector<uint32_t>>;

// One entry of StartTransientUnit's properties array a(sv).
struct SystemdProperty {
  std::string name;
  SystemdValue value;

  bool operator==(const SystemdProperty& other) const = default;
};

// Returns the D-Bus signature of `value` ("b", "t", "s" or "au").
std::string SystemdSignature(const SystemdValue& value);

// The address of the system bus: $DBUS_SYSTEM_BUS_ADDRESS when set and not empty, else
// "unix:path=/run/dbus/system_bus_socket".
std::string SystemBusAddress();

// One connection to a bus. Not thread-safe: each thread or process opens its own.
class SystemdBus {
 public:
  // Connects to SystemBusAddress() and sends Hello. Unavailable when that fails.
  static absl::StatusOr<std::unique_ptr<SystemdBus>> Connect(
      absl::Duration timeout = absl::Seconds(10));

  // Connects to `address` (a D-Bus address such as "unix:path=/tmp/bus").
  static absl::StatusOr<std::unique_ptr<SystemdBus>> ConnectTo(
      const std::string& address, absl::Duration timeout = absl::Seconds(10));

  ~SystemdBus();
  SystemdBus(const SystemdBus&) = delete;
  SystemdBus& operator=(const SystemdBus&) = delete;

  // Calls StartTransientUnit(name, "replace", properties, no auxiliary units) and waits until
  // the job is done. Every error names the unit. UnitExists becomes AlreadyExists. A job that
  // ends with a result other than "done" is FailedPrecondition, or Aborted when it was canceled.
  // A job that does not end within the timeout is DeadlineExceeded.
  absl::Status StartTransientUnit(const std::string& name,
                                  const std::vector<SystemdProperty>& properties);

  // Calls StopUnit(name, "replace") and waits until the job is done. A unit systemd does not
  // know (NoSuchUnit) is success, so stopping twice is harmless.
  absl::Status StopUnit(const std::string& name);

  const std::string& address() const { return address_; }

 private:
  SystemdBus(sd_bus* bus, std::string address, absl::Duration timeout)
      : bus_(bus), address_(std::move(address)), timeout_(timeout) {}

  // Asks the manager to send job signals. Errors are ignored, because a manager without
  // Subscribe may send them anyway.
  void Subscribe();

  // Waits until JobRemoved names `job`, then returns its result ("done", "failed", ...).
  absl::StatusOr<std::string> AwaitJob(const std::string& job, absl::Time deadline);

  // Waits for `job` of `method` on `unit` and turns a result other than "done" into an error.
  absl::Status FinishJob(const std::string& job, const std::string& method,
                         const std::string& unit, absl::Time deadline);

  sd_bus* bus_;
  sd_bus_slot* job_match_ = nullptr;
  std::string address_;
  absl::Duration timeout_;
  // Results of the JobRemoved signals seen so far, by job object path, until a call reads them.
  std::map<std::string, std::string> job_results_;
};

}  // namespace berth::runtime
