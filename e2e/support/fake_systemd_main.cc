// berth-fake-systemd: a stand-in for systemd's manager on a private D-Bus bus, for tests of the
// systemd cgroup driver on hosts where systemd does not run. It is not systemd: it implements three
// methods of org.freedesktop.systemd1.Manager (Subscribe, StartTransientUnit, StopUnit), keeps
// the names of the units it started, and writes every call it gets, with its properties, as one
// JSON line to the record file.
//
//   berth-fake-systemd --address unix:path=/tmp/x/bus --record /tmp/x/calls.jsonl
//       [--cgroup-root /sys/fs/cgroup/pids] [--fail-unit-file FILE] [--silent-unit TEXT]
//       [--max-seconds 600]
//
// Each accepted call gets a job path as its reply, then JobRemoved(id, job, unit, result) is
// emitted with result "done", or "failed" for a unit whose name contains the text of
// --fail-unit-file (read at every call, so a test can change it while the manager runs); no signal
// at all follows for a unit whose name contains --silent-unit. A second start of a running unit
// fails with org.freedesktop.systemd1.UnitExists, a stop of an unknown one with
// org.freedesktop.systemd1.NoSuchUnit. With --cgroup-root, a started unit's cgroup (where
// systemd would put it: the slice path, then the scope) is made below that folder and the
// scope's PIDs are written to its cgroup.procs; a stop removes the folder if it is empty.
// The program exits on SIGTERM or SIGINT, or after --max-seconds.
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "runtime/linux/cgroups_systemd.h"

namespace {

constexpr char kService[] = "org.freedesktop.systemd1";
constexpr char kObject[] = "/org/freedesktop/systemd1";
constexpr char kManager[] = "org.freedesktop.systemd1.Manager";

volatile sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

struct Options {
  std::string address;
  std::string record;
  std::string cgroup_root;
  std::string fail_unit_file;
  std::string silent_unit;
  long max_seconds = 600;
};

struct Manager {
  Options options;
  sd_bus* bus = nullptr;
  std::set<std::string> units;
  std::map<std::string, std::string> cgroups;  // unit -> cgroup path below --cgroup-root
  uint32_t next_job = 1;
};

void Record(const Manager& manager, const nlohmann::json& call) {
  std::ofstream out(manager.options.record, std::ios::app);
  out << call.dump() << "\n";
}

bool Matches(const std::string& unit, const std::string& needle) {
  return !needle.empty() && unit.find(needle) != std::string::npos;
}

// The text that makes a unit's job fail, as the test last wrote it.
std::string FailText(const Manager& manager) {
  if (manager.options.fail_unit_file.empty()) return "";
  absl::StatusOr<std::string> text = berth::ReadFile(manager.options.fail_unit_file);
  return text.ok() ? *text : "";
}

// Reads one variant's value into JSON; unknown types are skipped and named by their signature.
int ReadVariant(sd_bus_message* message, nlohmann::json& value) {
  char type = 0;
  const char* contents = nullptr;
  int r = sd_bus_message_peek_type(message, &type, &contents);
  if (r < 0) return r;
  std::string signature = contents != nullptr ? contents : "";
  r = sd_bus_message_enter_container(message, SD_BUS_TYPE_VARIANT, contents);
  if (r < 0) return r;
  if (signature == "b") {
    int flag = 0;
    r = sd_bus_message_read(message, "b", &flag);
    value = flag != 0;
  } else if (signature == "t") {
    uint64_t number = 0;
    r = sd_bus_message_read(message, "t", &number);
    value = number;
  } else if (signature == "s") {
    const char* text = nullptr;
    r = sd_bus_message_read(message, "s", &text);
    value = text;
  } else if (signature == "au") {
    const void* data = nullptr;
    size_t size = 0;
    r = sd_bus_message_read_array(message, 'u', &data, &size);
    std::vector<uint32_t> numbers(static_cast<const uint32_t*>(data),
                                  static_cast<const uint32_t*>(data) + size / sizeof(uint32_t));
    value = numbers;
  } else {
    r = sd_bus_message_skip(message, signature.c_str());
    value = "<" + signature + ">";
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(message);
}

// Reads an a(sv) array into a JSON object, and a list of the names in their order.
int ReadProperties(sd_bus_message* message, nlohmann::json& properties,
                   std::vector<std::string>& order) {
  int r = sd_bus_message_enter_container(message, SD_BUS_TYPE_ARRAY, "(sv)");
  if (r < 0) return r;
  while ((r = sd_bus_message_enter_container(message, SD_BUS_TYPE_STRUCT, "sv")) > 0) {
    const char* name = nullptr;
    r = sd_bus_message_read(message, "s", &name);
    if (r < 0) return r;
    nlohmann::json value;
    r = ReadVariant(message, value);
    if (r < 0) return r;
    properties[name] = value;
    order.push_back(name);
    r = sd_bus_message_exit_container(message);
    if (r < 0) return r;
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(message);
}

std::string JoinCgroup(const std::string& root, const std::string& path) {
  return root + (path == "/" ? "" : path);
}

void MakeDirs(const std::string& path) {
  for (size_t at = 1; at != std::string::npos; at = path.find('/', at + 1)) {
    ::mkdir(path.substr(0, at).c_str(), 0755);
  }
  ::mkdir(path.c_str(), 0755);
}

// Puts the unit's cgroup where systemd would: a slice at its expanded path, a scope below its
// Slice. Returns the cgroup path, or "" when --cgroup-root is not set or the names are bad.
std::string PlaceUnit(Manager& manager, const std::string& unit, const nlohmann::json& props,
                      nlohmann::json& call) {
  if (manager.options.cgroup_root.empty()) return "";
  std::string path;
  if (unit.size() > 6 && unit.substr(unit.size() - 6) == ".slice") {
    auto expanded = berth::runtime::ExpandSystemdSlice(unit);
    if (!expanded.ok()) return "";
    path = *expanded;
  } else {
    std::string slice = props.contains("Slice") ? props["Slice"].get<std::string>()
                                                : std::string("system.slice");
    auto expanded = berth::runtime::ExpandSystemdSlice(slice);
    if (!expanded.ok()) return "";
    path = (*expanded == "/" ? "" : *expanded) + "/" + unit;
  }
  std::string dir = JoinCgroup(manager.options.cgroup_root, path);
  MakeDirs(dir);
  nlohmann::json moved = nlohmann::json::array();
  if (props.contains("PIDs")) {
    for (uint32_t pid : props["PIDs"].get<std::vector<uint32_t>>()) {
      absl::Status written = berth::WriteFile(dir + "/cgroup.procs", std::to_string(pid));
      if (written.ok()) moved.push_back(pid);
    }
  }
  call["cgroup"] = path;
  call["moved"] = moved;
  return path;
}

// Replies with a new job and, unless the unit is to stay silent, emits its JobRemoved.
int FinishJob(Manager& manager, sd_bus_message* message, const std::string& unit,
              nlohmann::json& call) {
  uint32_t id = manager.next_job++;
  std::string job = std::string(kObject) + "/job/" + std::to_string(id);
  std::string result = Matches(unit, FailText(manager)) ? "failed" : "done";
  call["job"] = job;
  call["result"] = Matches(unit, manager.options.silent_unit) ? "" : result;
  Record(manager, call);
  int r = sd_bus_reply_method_return(message, "o", job.c_str());
  if (r < 0) return r;
  if (Matches(unit, manager.options.silent_unit)) return 1;
  r = sd_bus_emit_signal(manager.bus, kObject, kManager, "JobRemoved", "uoss", id, job.c_str(),
                         unit.c_str(), result.c_str());
  return r < 0 ? r : 1;
}

int OnSubscribe(sd_bus_message* message, void* userdata, sd_bus_error* /*error*/) {
  Record(*static_cast<Manager*>(userdata), {{"method", "Subscribe"}});
  return sd_bus_reply_method_return(message, "");
}

int OnStartTransientUnit(sd_bus_message* message, void* userdata, sd_bus_error* error) {
  Manager& manager = *static_cast<Manager*>(userdata);
  const char* name = nullptr;
  const char* mode = nullptr;
  int r = sd_bus_message_read(message, "ss", &name, &mode);
  if (r < 0) return r;
  nlohmann::json props = nlohmann::json::object();
  std::vector<std::string> order;
  r = ReadProperties(message, props, order);
  if (r < 0) return r;
  r = sd_bus_message_enter_container(message, SD_BUS_TYPE_ARRAY, "(sa(sv))");
  int aux = 0;
  while (r >= 0 && sd_bus_message_skip(message, "(sa(sv))") > 0) ++aux;
  nlohmann::json call = {{"method", "StartTransientUnit"}, {"name", name},      {"mode", mode},
                         {"properties", props},           {"order", order}, {"aux", aux}};
  std::string unit = name;
  if (manager.units.count(unit) != 0) {
    call["error"] = "UnitExists";
    Record(manager, call);
    return sd_bus_error_setf(error, "org.freedesktop.systemd1.UnitExists",
                             "Unit %s already exists.", name);
  }
  manager.units.insert(unit);
  std::string cgroup = PlaceUnit(manager, unit, props, call);
  if (!cgroup.empty()) manager.cgroups[unit] = cgroup;
  return FinishJob(manager, message, unit, call);
}

int OnStopUnit(sd_bus_message* message, void* userdata, sd_bus_error* error) {
  Manager& manager = *static_cast<Manager*>(userdata);
  const char* name = nullptr;
  const char* mode = nullptr;
  int r = sd_bus_message_read(message, "ss", &name, &mode);
  if (r < 0) return r;
  nlohmann::json call = {{"method", "StopUnit"}, {"name", name}, {"mode", mode}};
  std::string unit = name;
  if (manager.units.erase(unit) == 0) {
    call["error"] = "NoSuchUnit";
    Record(manager, call);
    return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit",
                             "Unit %s not loaded.", name);
  }
  auto cgroup = manager.cgroups.find(unit);
  if (cgroup != manager.cgroups.end()) {
    ::rmdir(JoinCgroup(manager.options.cgroup_root, cgroup->second).c_str());
    manager.cgroups.erase(cgroup);
  }
  return FinishJob(manager, message, unit, call);
}

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Subscribe", "", "", OnSubscribe, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", OnStartTransientUnit,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopUnit", "ss", "o", OnStopUnit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
    SD_BUS_VTABLE_END};

bool ParseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--address") {
      options.address = value;
    } else if (flag == "--record") {
      options.record = value;
    } else if (flag == "--cgroup-root") {
      options.cgroup_root = value;
    } else if (flag == "--fail-unit-file") {
      options.fail_unit_file = value;
    } else if (flag == "--silent-unit") {
      options.silent_unit = value;
    } else if (flag == "--max-seconds") {
      options.max_seconds = std::stol(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return false;
    }
  }
  return argc % 2 == 1 && !options.address.empty() && !options.record.empty();
}

int Fail(const char* step, int r) {
  std::fprintf(stderr, "berth-fake-systemd: %s: %s\n", step, std::strerror(-r));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Manager manager;
  if (!ParseOptions(argc, argv, manager.options)) {
    std::fprintf(stderr, "usage: %s --address ADDR --record FILE [--cgroup-root DIR] "
                         "[--fail-unit-file FILE] [--silent-unit TEXT] [--max-seconds N]\n", argv[0]);
    return 2;
  }
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGINT, OnSignal);

  int r = sd_bus_new(&manager.bus);
  if (r < 0) return Fail("sd_bus_new", r);
  r = sd_bus_set_address(manager.bus, manager.options.address.c_str());
  if (r >= 0) r = sd_bus_set_bus_client(manager.bus, 1);
  if (r >= 0) r = sd_bus_start(manager.bus);
  if (r < 0) return Fail("connect", r);
  r = sd_bus_add_object_vtable(manager.bus, nullptr, kObject, kManager, kVtable, &manager);
  if (r < 0) return Fail("add object", r);
  // Owning the name is the signal that the manager is ready: tests wait for it.
  r = sd_bus_request_name(manager.bus, kService, 0);
  if (r < 0) return Fail("request name", r);

  time_t end = std::time(nullptr) + manager.options.max_seconds;
  while (!g_stop && std::time(nullptr) < end) {
    r = sd_bus_process(manager.bus, nullptr);
    if (r < 0) return Fail("process", r);
    if (r > 0) continue;
    r = sd_bus_wait(manager.bus, 200000);
    if (r < 0 && r != -EINTR) return Fail("wait", r);
  }
  sd_bus_flush_close_unref(manager.bus);
  return 0;
}
