// Berth's client of systemd's manager (runtime/linux/systemd_bus.h) against a private D-Bus bus.
// systemd cannot run on the test hosts, so the manager on that bus is berth-fake-systemd, a
// stand-in that records each call (e2e/support/fake_systemd.h). The tests check what goes over
// the wire (unit names, modes, property names, types and values) and how each reply, signal or
// missing signal becomes a status.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "e2e/support/fake_systemd.h"
#include "runtime/linux/systemd_bus.h"
#include "runtime/linux/systemd_units.h"

namespace berth::e2e {
namespace {

using runtime::SystemdBus;
using runtime::SystemdProperty;

std::unique_ptr<FakeSystemd> StartFake(FakeSystemdOptions options = {}) {
  absl::StatusOr<std::unique_ptr<FakeSystemd>> fake = FakeSystemd::Start(options);
  EXPECT_TRUE(fake.ok()) << fake.status();
  return fake.ok() ? *std::move(fake) : nullptr;
}

std::unique_ptr<SystemdBus> ConnectTo(const FakeSystemd& fake,
                                      absl::Duration timeout = absl::Seconds(10)) {
  absl::StatusOr<std::unique_ptr<SystemdBus>> bus = SystemdBus::ConnectTo(fake.address(), timeout);
  EXPECT_TRUE(bus.ok()) << bus.status();
  return bus.ok() ? *std::move(bus) : nullptr;
}

// Sets DBUS_SYSTEM_BUS_ADDRESS for the life of the object.
class BusAddressEnv {
 public:
  explicit BusAddressEnv(const std::string& address) {
    const char* old = ::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    if (old != nullptr) old_ = old;
    had_old_ = old != nullptr;
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
  }
  ~BusAddressEnv() {
    if (had_old_) {
      ::setenv("DBUS_SYSTEM_BUS_ADDRESS", old_.c_str(), 1);
    } else {
      ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    }
  }

 private:
  std::string old_;
  bool had_old_ = false;
};

TEST(SystemdBusTest, StartSendsNameModeAndTypedProperties) {
  std::unique_ptr<FakeSystemd> fake = StartFake();
  ASSERT_NE(fake, nullptr);
  std::unique_ptr<SystemdBus> bus = ConnectTo(*fake);
  ASSERT_NE(bus, nullptr);

  std::vector<SystemdProperty> properties = {
      {"Slice", std::string("test-pod.slice")},
      {"Delegate", true},
      {"PIDs", std::vector<uint32_t>{4242, 4343}},
      {"MemoryLimit", uint64_t{67108864}},
  };
  absl::Status started = bus->StartTransientUnit("berth-c1.scope", properties);
  ASSERT_TRUE(started.ok()) << started << "\n" << fake->Logs();

  std::vector<nlohmann::json> calls = fake->Calls("StartTransientUnit");
  ASSERT_EQ(calls.size(), 1u);
  const nlohmann::json& call = calls[0];
  EXPECT_EQ(call["name"], "berth-c1.scope");
  EXPECT_EQ(call["mode"], "replace");
  EXPECT_EQ(call["aux"], 0);
  EXPECT_EQ(call["order"], nlohmann::json({"Slice", "Delegate", "PIDs", "MemoryLimit"}));
  EXPECT_EQ(call["properties"]["Slice"], "test-pod.slice");
  EXPECT_EQ(call["properties"]["Delegate"], true);
  EXPECT_EQ(call["properties"]["PIDs"], nlohmann::json({4242, 4343}));
  EXPECT_EQ(call["properties"]["MemoryLimit"], 67108864u);
  // The client asked for job signals before it started anything.
  EXPECT_EQ(fake->Calls("Subscribe").size(), 1u);
}

TEST(SystemdBusTest, StartingARunningUnitNamesIt) {
  std::unique_ptr<FakeSystemd> fake = StartFake();
  ASSERT_NE(fake, nullptr);
  std::unique_ptr<SystemdBus> bus = ConnectTo(*fake);
  ASSERT_NE(bus, nullptr);
  ASSERT_TRUE(bus->StartTransientUnit("twice.slice", {}).ok());

  absl::Status again = bus->StartTransientUnit("twice.slice", {});
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_NE(again.message().find("\"twice.slice\""), std::string::npos) << again;
  EXPECT_NE(again.message().find("UnitExists"), std::string::npos) << again;
}

TEST(SystemdBusTest, StopIgnoresUnknownUnit) {
  std::unique_ptr<FakeSystemd> fake = StartFake();
  ASSERT_NE(fake, nullptr);
  std::unique_ptr<SystemdBus> bus = ConnectTo(*fake);
  ASSERT_NE(bus, nullptr);
  ASSERT_TRUE(bus->StartTransientUnit("gone.slice", {}).ok());

  EXPECT_TRUE(bus->StopUnit("gone.slice").ok());
  absl::Status twice = bus->StopUnit("gone.slice");
  EXPECT_TRUE(twice.ok()) << twice;
  EXPECT_TRUE(bus->StopUnit("never-started.scope").ok());

  std::vector<nlohmann::json> stops = fake->Calls("StopUnit");
  ASSERT_EQ(stops.size(), 3u);
  EXPECT_EQ(stops[0]["name"], "gone.slice");
  EXPECT_EQ(stops[0]["mode"], "replace");
  EXPECT_EQ(stops[0]["result"], "done");
  EXPECT_EQ(stops[1]["error"], "NoSuchUnit");
  EXPECT_EQ(stops[2]["error"], "NoSuchUnit");
}

TEST(SystemdBusTest, FailedJobIsAnErrorNamingTheUnit) {
  FakeSystemdOptions options;
  options.fail_unit = "broken";
  std::unique_ptr<FakeSystemd> fake = StartFake(options);
  ASSERT_NE(fake, nullptr);
  std::unique_ptr<SystemdBus> bus = ConnectTo(*fake);
  ASSERT_NE(bus, nullptr);

  absl::Status started = bus->StartTransientUnit("berth-broken.scope", {});
  EXPECT_EQ(started.code(), absl::StatusCode::kFailedPrecondition) << started;
  EXPECT_NE(started.message().find("\"berth-broken.scope\""), std::string::npos) << started;
  EXPECT_NE(started.message().find("\"failed\""), std::string::npos) << started;
  // Other units on the same connection are not confused with the failed job.
  EXPECT_TRUE(bus->StartTransientUnit("berth-fine.scope", {}).ok());
}

TEST(SystemdBusTest, JobThatNeverEndsTimesOut) {
  FakeSystemdOptions options;
  options.silent_unit = "stuck";
  std::unique_ptr<FakeSystemd> fake = StartFake(options);
  ASSERT_NE(fake, nullptr);
  std::unique_ptr<SystemdBus> bus = ConnectTo(*fake, absl::Milliseconds(500));
  ASSERT_NE(bus, nullptr);

  absl::Time start = absl::Now();
  absl::Status started = bus->StartTransientUnit("stuck.slice", {});
  EXPECT_EQ(started.code(), absl::StatusCode::kDeadlineExceeded) << started;
  EXPECT_NE(started.message().find("\"stuck.slice\""), std::string::npos) << started;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(SystemdBusTest, MissingBusOrManagerIsUnavailable) {
  FakeSystemdOptions options;
  options.start_manager = false;
  std::unique_ptr<FakeSystemd> fake = StartFake(options);
  ASSERT_NE(fake, nullptr);

  absl::StatusOr<std::unique_ptr<SystemdBus>> absent = SystemdBus::ConnectTo(fake->AbsentAddress());
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kUnavailable) << absent.status();

  // A bus without systemd replies at once that the name has no owner.
  std::unique_ptr<SystemdBus> bus = ConnectTo(*fake);
  ASSERT_NE(bus, nullptr);
  absl::Time start = absl::Now();
  absl::Status started = bus->StartTransientUnit("orphan.slice", {});
  EXPECT_EQ(started.code(), absl::StatusCode::kUnavailable) << started;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(SystemdBusTest, AddressComesFromEnvironment) {
  std::unique_ptr<FakeSystemd> fake = StartFake();
  ASSERT_NE(fake, nullptr);
  BusAddressEnv env(fake->address());
  EXPECT_EQ(runtime::SystemBusAddress(), fake->address());

  // The driver-level calls: a container scope and a pod slice, both started and stopped.
  runtime::Resources resources;
  resources.memory.limit = 1 << 26;
  ASSERT_TRUE(runtime::StartPodSlice("envtest-pod.slice").ok());
  absl::Status scope =
      runtime::StartContainerScope("envtest-pod.slice:berth:c9", 777, resources);
  ASSERT_TRUE(scope.ok()) << scope;
  EXPECT_TRUE(runtime::StopContainerScope("envtest-pod.slice:berth:c9").ok());
  EXPECT_TRUE(runtime::StopPodSlice("envtest-pod.slice").ok());
  // A cgroupfs path never reaches the bus.
  EXPECT_TRUE(runtime::StartContainerScope("/berth/c9", 777, resources).ok());

  std::vector<nlohmann::json> starts = fake->Calls("StartTransientUnit");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0]["name"], "envtest-pod.slice");
  EXPECT_EQ(starts[1]["name"], "berth-c9.scope");
  EXPECT_EQ(starts[1]["properties"]["Slice"], "envtest-pod.slice");
  EXPECT_EQ(starts[1]["properties"]["PIDs"], nlohmann::json({777}));
  std::vector<nlohmann::json> stops = fake->Calls("StopUnit");
  ASSERT_EQ(stops.size(), 2u);
  EXPECT_EQ(stops[0]["name"], "berth-c9.scope");
  EXPECT_EQ(stops[1]["name"], "envtest-pod.slice");
}

TEST(SystemdBusTest, DriverFallsBackWhenTheBusIsAbsent) {
  FakeSystemdOptions options;
  options.start_manager = false;
  std::unique_ptr<FakeSystemd> fake = StartFake(options);
  ASSERT_NE(fake, nullptr);

  {
    BusAddressEnv env(fake->AbsentAddress());
    EXPECT_TRUE(runtime::StartPodSlice("fallback-pod.slice").ok());
    EXPECT_TRUE(runtime::StartContainerScope("fallback-pod.slice:berth:c1", 1, {}).ok());
    EXPECT_TRUE(runtime::StopContainerScope("fallback-pod.slice:berth:c1").ok());
  }
  // A bus with no systemd on it is the same as none.
  BusAddressEnv env(fake->address());
  EXPECT_TRUE(runtime::StartPodSlice("fallback-pod.slice").ok());
  // A malformed path is still an error: the fallback only covers a missing systemd.
  EXPECT_EQ(runtime::StartContainerScope("bad/slice.slice:berth:c1", 1, {}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::e2e
