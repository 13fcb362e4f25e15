// The systemd driver's unit names and the properties sent with StartTransientUnit, without a bus.
// (The calls themselves are tested against a private bus in e2e/systemd_bus_test.cc.)
#include "runtime/linux/systemd_units.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "runtime/linux/cgroups.h"
#include "runtime/linux/systemd_bus.h"

namespace berth::runtime {
namespace {

const SystemdProperty* Find(const std::vector<SystemdProperty>& properties,
                            const std::string& name) {
  for (const SystemdProperty& property : properties) {
    if (property.name == name) return &property;
  }
  return nullptr;
}

std::vector<std::string> Names(const std::vector<SystemdProperty>& properties) {
  std::vector<std::string> names;
  for (const SystemdProperty& property : properties) names.push_back(property.name);
  return names;
}

TEST(SystemdUnitsTest, ScopeOfKubeletStylePath) {
  absl::StatusOr<std::optional<SystemdScope>> scope =
      ScopeOfCgroupsPath("kubepods-burstable-pod12.slice:cri-berth:abc");
  ASSERT_TRUE(scope.ok()) << scope.status();
  ASSERT_TRUE(scope->has_value());
  EXPECT_EQ((*scope)->slice, "kubepods-burstable-pod12.slice");
  EXPECT_EQ((*scope)->unit, "cri-berth-abc.scope");
}

TEST(SystemdUnitsTest, ScopeDefaultsAndNonScopes) {
  absl::StatusOr<std::optional<SystemdScope>> bare = ScopeOfCgroupsPath(":berth:abc");
  ASSERT_TRUE(bare.ok()) << bare.status();
  ASSERT_TRUE(bare->has_value());
  EXPECT_EQ((*bare)->slice, "system.slice");
  EXPECT_EQ((*bare)->unit, "berth-abc.scope");

  absl::StatusOr<std::optional<SystemdScope>> unprefixed = ScopeOfCgroupsPath("a.slice::abc");
  ASSERT_TRUE(unprefixed.ok()) << unprefixed.status();
  ASSERT_TRUE(unprefixed->has_value());
  EXPECT_EQ((*unprefixed)->unit, "abc.scope");

  // A cgroupfs path, a bare slice and a path naming a slice have no scope.
  for (const char* path : {"/berth/abc", "berth-pod.slice", "a.slice:berth:b.slice"}) {
    absl::StatusOr<std::optional<SystemdScope>> none = ScopeOfCgroupsPath(path);
    ASSERT_TRUE(none.ok()) << path << ": " << none.status();
    EXPECT_FALSE(none->has_value()) << path;
  }
  EXPECT_EQ(ScopeOfCgroupsPath("a--b.slice:berth:c").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScopeOfCgroupsPath("a.slice:berth:../x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SystemdUnitsTest, SliceNames) {
  EXPECT_TRUE(IsSystemdSliceName("berth-pod1.slice"));
  EXPECT_FALSE(IsSystemdSliceName("a.slice:berth:c"));
  EXPECT_FALSE(IsSystemdSliceName("/berth/pod1"));
  EXPECT_FALSE(IsSystemdSliceName("/kubepods.slice"));

  std::vector<SystemdProperty> properties = SliceProperties("berth-pod1.slice");
  EXPECT_EQ(Names(properties), std::vector<std::string>{"Description"});
}

TEST(SystemdUnitsTest, ScopePropertiesWithoutLimits) {
  SystemdScope scope{"pod.slice", "berth-c1.scope"};
  std::vector<SystemdProperty> properties = ScopeProperties(scope, 4321, Resources{}, false);
  EXPECT_EQ(Names(properties),
            (std::vector<std::string>{"Slice", "Description", "Delegate", "PIDs"}));
  EXPECT_EQ(properties[0].value, SystemdValue(std::string("pod.slice")));
  EXPECT_EQ(properties[2].value, SystemdValue(true));
  EXPECT_EQ(properties[3].value, SystemdValue(std::vector<uint32_t>{4321}));
  EXPECT_EQ(SystemdSignature(properties[0].value), "s");
  EXPECT_EQ(SystemdSignature(properties[2].value), "b");
  EXPECT_EQ(SystemdSignature(properties[3].value), "au");
}

TEST(SystemdUnitsTest, ScopePropertiesCarryV1Limits) {
  Resources resources;
  resources.cpu.shares = 512;
  resources.cpu.quota = 20000;
  resources.cpu.period = 100000;
  resources.memory.limit = 64 << 20;
  resources.pids.limit = 100;
  std::vector<SystemdProperty> properties =
      ScopeProperties({"pod.slice", "berth-c1.scope"}, 1, resources, /*unified=*/false);
  EXPECT_EQ(Names(properties),
            (std::vector<std::string>{"Slice", "Description", "Delegate", "PIDs", "CPUShares",
                                      "CPUQuotaPerSecUSec", "MemoryLimit", "TasksMax"}));
  EXPECT_EQ(Find(properties, "CPUShares")->value, SystemdValue(uint64_t{512}));
  EXPECT_EQ(Find(properties, "CPUQuotaPerSecUSec")->value, SystemdValue(uint64_t{200000}));
  EXPECT_EQ(Find(properties, "MemoryLimit")->value, SystemdValue(uint64_t{64 << 20}));
  EXPECT_EQ(Find(properties, "TasksMax")->value, SystemdValue(uint64_t{100}));
  EXPECT_EQ(SystemdSignature(Find(properties, "TasksMax")->value), "t");
}

TEST(SystemdUnitsTest, ScopePropertiesCarryV2Limits) {
  Resources resources;
  resources.cpu.shares = 1024;
  resources.memory.limit = 1 << 30;
  std::vector<SystemdProperty> properties =
      ScopeProperties({"pod.slice", "berth-c1.scope"}, 1, resources, /*unified=*/true);
  EXPECT_EQ(Find(properties, "CPUShares"), nullptr);
  EXPECT_EQ(Find(properties, "MemoryLimit"), nullptr);
  ASSERT_NE(Find(properties, "CPUWeight"), nullptr);
  EXPECT_EQ(Find(properties, "CPUWeight")->value, SystemdValue(CpuSharesToWeight(1024)));
  EXPECT_EQ(Find(properties, "MemoryMax")->value, SystemdValue(uint64_t{1} << 30));
}

TEST(SystemdUnitsTest, QuotaScaledAndRoundedUp) {
  Resources resources;
  resources.cpu.quota = 12345;
  resources.cpu.period = 100000;
  std::vector<SystemdProperty> properties =
      ScopeProperties({"pod.slice", "c.scope"}, 1, resources, false);
  // 12345 per 100000 is 123450 per second, kept as 130000.
  EXPECT_EQ(Find(properties, "CPUQuotaPerSecUSec")->value, SystemdValue(uint64_t{130000}));

  // Without a period the kernel's default of 100 ms applies.
  resources.cpu.period.reset();
  resources.cpu.quota = 50000;
  properties = ScopeProperties({"pod.slice", "c.scope"}, 1, resources, false);
  EXPECT_EQ(Find(properties, "CPUQuotaPerSecUSec")->value, SystemdValue(uint64_t{500000}));
}

TEST(SystemdUnitsTest, UnsetOrUnlimitedValuesAreLeftOut) {
  Resources resources;
  resources.cpu.shares = 0;
  resources.cpu.quota = -1;
  resources.memory.limit = 0;
  resources.pids.limit = -1;
  std::vector<SystemdProperty> properties =
      ScopeProperties({"pod.slice", "c.scope"}, 1, resources, false);
  EXPECT_EQ(properties.size(), 4u);
}

TEST(SystemdUnitsTest, SystemBusAddressFollowsTheEnvironment) {
  const char* old = ::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  std::string saved = old != nullptr ? old : "";
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/tmp/test-bus", 1);
  EXPECT_EQ(SystemBusAddress(), "unix:path=/tmp/test-bus");
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "", 1);
  EXPECT_EQ(SystemBusAddress(), "unix:path=/run/dbus/system_bus_socket");
  ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  EXPECT_EQ(SystemBusAddress(), "unix:path=/run/dbus/system_bus_socket");
  if (old != nullptr) ::setenv("DBUS_SYSTEM_BUS_ADDRESS", saved.c_str(), 1);
}

}  // namespace
}  // namespace berth::runtime
