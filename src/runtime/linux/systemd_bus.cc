#include "runtime/linux/systemd_bus.h"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace berth::runtime {
namespace {

constexpr char kService[] = "org.freedesktop.systemd1";
constexpr char kObject[] = "/org/freedesktop/systemd1";
constexpr char kManager[] = "org.freedesktop.systemd1.Manager";
constexpr char kDefaultSystemBus[] = "unix:path=/run/dbus/system_bus_socket";

// Frees an sd-bus error on every path out of a call.
struct BusError {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&error); }
};

// Owns one sd-bus message reference.
struct Message {
  sd_bus_message* message = nullptr;
  ~Message() { sd_bus_message_unref(message); }
};

uint64_t Microseconds(absl::Duration duration) {
  int64_t usec = absl::ToInt64Microseconds(duration);
  return usec > 0 ? static_cast<uint64_t>(usec) : 1;
}

// A failure of the local sd-bus library or of the connection itself: the bus is not usable.
absl::Status TransportError(int negative_errno, const std::string& step,
                            const std::string& operand) {
  int err = -negative_errno;
  if (err == ETIMEDOUT) {
    return absl::DeadlineExceededError(
        absl::StrCat("systemd ", step, " \"", operand, "\": timed out"));
  }
  return absl::UnavailableError(
      absl::StrCat("systemd ", step, " \"", operand, "\": ", std::strerror(err)));
}

absl::StatusCode CodeOfBusError(const std::string& name) {
  if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
      name == "org.freedesktop.DBus.Error.NoServer" ||
      name == "org.freedesktop.DBus.Error.Disconnected") {
    return absl::StatusCode::kUnavailable;
  }
  if (name == "org.freedesktop.systemd1.NoSuchUnit") return absl::StatusCode::kNotFound;
  if (name == "org.freedesktop.systemd1.UnitExists") return absl::StatusCode::kAlreadyExists;
  if (name == "org.freedesktop.DBus.Error.InvalidArgs" ||
      name == "org.freedesktop.DBus.Error.PropertyReadOnly") {
    return absl::StatusCode::kInvalidArgument;
  }
  if (name == "org.freedesktop.DBus.Error.AccessDenied" ||
      name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired") {
    return absl::StatusCode::kPermissionDenied;
  }
  if (name == "org.freedesktop.DBus.Error.NoReply" ||
      name == "org.freedesktop.DBus.Error.Timeout") {
    return absl::StatusCode::kDeadlineExceeded;
  }
  return absl::StatusCode::kFailedPrecondition;
}

// The status of a failed method call: the D-Bus error when the peer sent one, else the
// transport failure.
absl::Status CallError(int result, const sd_bus_error& error, const std::string& method,
                       const std::string& unit) {
  if (!sd_bus_error_is_set(&error)) return TransportError(result, method, unit);
  std::string name = error.name;
  std::string text = error.message != nullptr ? error.message : "";
  return absl::Status(CodeOfBusError(name),
                      absl::StrCat("systemd ", method, " \"", unit, "\": ", name, ": ", text));
}

// Appends one (sv) entry to an open a(sv) container.
int AppendProperty(sd_bus_message* message, const SystemdProperty& property) {
  std::string signature = SystemdSignature(property.value);
  int r = sd_bus_message_open_container(message, SD_BUS_TYPE_STRUCT, "sv");
  if (r >= 0) r = sd_bus_message_append(message, "s", property.name.c_str());
  if (r >= 0) r = sd_bus_message_open_container(message, SD_BUS_TYPE_VARIANT, signature.c_str());
  if (r < 0) return r;
  r = std::visit(
      [message](const auto& value) -> int {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, bool>) {
          return sd_bus_message_append(message, "b", static_cast<int>(value));
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          return sd_bus_message_append(message, "t", value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return sd_bus_message_append(message, "s", value.c_str());
        } else {
          return sd_bus_message_append_array(message, 'u', value.data(),
                                             value.size() * sizeof(uint32_t));
        }
      },
      property.value);
  if (r >= 0) r = sd_bus_message_close_container(message);
  if (r >= 0) r = sd_bus_message_close_container(message);
  return r;
}

int OnJobRemoved(sd_bus_message* message, void* userdata, sd_bus_error* /*error*/) {
  uint32_t id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (sd_bus_message_read(message, "uoss", &id, &job, &unit, &result) < 0) return 0;
  (*static_cast<std::map<std::string, std::string>*>(userdata))[job] = result;
  return 0;
}

// Creates a call of `method` on the manager. Auto-start is off, so a bus without systemd replies
// at once that the name has no owner instead of trying to activate a service for it.
int NewManagerCall(sd_bus* bus, const char* method, Message& call) {
  int r = sd_bus_message_new_method_call(bus, &call.message, kService, kObject, kManager, method);
  if (r >= 0) r = sd_bus_message_set_auto_start(call.message, 0);
  return r;
}

}  // namespace

std::string SystemdSignature(const SystemdValue& value) {
  switch (value.index()) {
    case 0:
      return "b";
    case 1:
      return "t";
    case 2:
      return "s";
    default:
      return "au";
  }
}

std::string SystemBusAddress() {
  const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  if (address != nullptr && *address != '\0') return address;
  return kDefaultSystemBus;
}

absl::StatusOr<std::unique_ptr<SystemdBus>> SystemdBus::Connect(absl::Duration timeout) {
  return ConnectTo(SystemBusAddress(), timeout);
}

absl::StatusOr<std::unique_ptr<SystemdBus>> SystemdBus::ConnectTo(const std::string& address,
                                                                  absl::Duration timeout) {
  sd_bus* bus = nullptr;
  int r = sd_bus_new(&bus);
  if (r < 0) return TransportError(r, "connect to bus", address);
  r = sd_bus_set_address(bus, address.c_str());
  if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
  if (r >= 0) r = sd_bus_set_method_call_timeout(bus, Microseconds(timeout));
  if (r >= 0) r = sd_bus_start(bus);
  if (r < 0) {
    sd_bus_unref(bus);
    return TransportError(r, "connect to bus", address);
  }
  std::unique_ptr<SystemdBus> client(new SystemdBus(bus, address, timeout));

  // The match goes in before any call, so no JobRemoved can pass unseen. Adding it is a round
  // trip to the bus, which also checks that the bus is up. The match leaves the sender open,
  // because the signal carries the manager's unique name, and the job path identifies it.
  r = sd_bus_match_signal(bus, &client->job_match_, nullptr, kObject, kManager, "JobRemoved",
                          OnJobRemoved, &client->job_results_);
  if (r < 0) return TransportError(r, "connect to bus", address);
  client->Subscribe();
  return client;
}

SystemdBus::~SystemdBus() {
  sd_bus_slot_unref(job_match_);
  sd_bus_flush_close_unref(bus_);
}

void SystemdBus::Subscribe() {
  Message call;
  if (NewManagerCall(bus_, "Subscribe", call) < 0) return;
  BusError error;
  Message reply;
  (void)sd_bus_call(bus_, call.message, Microseconds(timeout_), &error.error, &reply.message);
}

absl::Status SystemdBus::StartTransientUnit(const std::string& name,
                                            const std::vector<SystemdProperty>& properties) {
  absl::Time deadline = absl::Now() + timeout_;
  Message call;
  int r = NewManagerCall(bus_, "StartTransientUnit", call);
  if (r >= 0) r = sd_bus_message_append(call.message, "ss", name.c_str(), "replace");
  if (r >= 0) r = sd_bus_message_open_container(call.message, SD_BUS_TYPE_ARRAY, "(sv)");
  for (const SystemdProperty& property : properties) {
    if (r >= 0) r = AppendProperty(call.message, property);
  }
  if (r >= 0) r = sd_bus_message_close_container(call.message);
  // No auxiliary units.
  if (r >= 0) r = sd_bus_message_append(call.message, "a(sa(sv))", 0);
  if (r < 0) return TransportError(r, "StartTransientUnit", name);

  BusError error;
  Message reply;
  r = sd_bus_call(bus_, call.message, Microseconds(timeout_), &error.error, &reply.message);
  if (r < 0) return CallError(r, error.error, "StartTransientUnit", name);
  const char* job = nullptr;
  r = sd_bus_message_read(reply.message, "o", &job);
  if (r < 0) return TransportError(r, "StartTransientUnit reply for", name);

  return FinishJob(job, "StartTransientUnit", name, deadline);
}

absl::Status SystemdBus::StopUnit(const std::string& name) {
  absl::Time deadline = absl::Now() + timeout_;
  Message call;
  int r = NewManagerCall(bus_, "StopUnit", call);
  if (r >= 0) r = sd_bus_message_append(call.message, "ss", name.c_str(), "replace");
  if (r < 0) return TransportError(r, "StopUnit", name);

  BusError error;
  Message reply;
  r = sd_bus_call(bus_, call.message, Microseconds(timeout_), &error.error, &reply.message);
  if (r < 0) {
    absl::Status status = CallError(r, error.error, "StopUnit", name);
    return absl::IsNotFound(status) ? absl::OkStatus() : status;
  }
  const char* job = nullptr;
  r = sd_bus_message_read(reply.message, "o", &job);
  if (r < 0) return TransportError(r, "StopUnit reply for", name);

  return FinishJob(job, "StopUnit", name, deadline);
}

absl::Status SystemdBus::FinishJob(const std::string& job, const std::string& method,
                                   const std::string& unit, absl::Time deadline) {
  std::string context = absl::StrCat("systemd ", method, " \"", unit, "\"");
  absl::StatusOr<std::string> result = AwaitJob(job, deadline);
  if (!result.ok()) return Annotate(result.status(), context);
  if (*result == "done") return absl::OkStatus();
  std::string message =
      absl::StrCat(context, ": job ", job, " ended with result \"", *result, "\"");
  if (*result == "canceled") return absl::AbortedError(message);
  return absl::FailedPreconditionError(message);
}

absl::StatusOr<std::string> SystemdBus::AwaitJob(const std::string& job, absl::Time deadline) {
  std::map<std::string, std::string>& results = job_results_;
  while (true) {
    auto found = results.find(job);
    if (found != results.end()) {
      std::string result = found->second;
      results.erase(found);
      return result;
    }
    // Dispatch everything already received before sleeping on the socket.
    int r = sd_bus_process(bus_, nullptr);
    if (r < 0) return TransportError(r, "wait for job", job);
    if (r > 0) continue;
    absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("job ", job, " did not finish within ", absl::FormatDuration(timeout_)));
    }
    r = sd_bus_wait(bus_, Microseconds(deadline - now));
    if (r < 0 && r != -EINTR) return TransportError(r, "wait for job", job);
  }
}

}  // namespace berth::runtime
