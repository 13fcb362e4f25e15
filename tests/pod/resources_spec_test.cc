#include "pod/resources_spec.h"

#include <gtest/gtest.h>

namespace berth::pod {
namespace {

namespace v1 = ::runtime::v1;

TEST(ResourcesFromCri, ZeroMeansUnset) {
  runtime::Resources resources = ResourcesFromCri({});
  EXPECT_FALSE(resources.memory.limit);
  EXPECT_FALSE(resources.memory.swap);
  EXPECT_FALSE(resources.cpu.shares);
  EXPECT_FALSE(resources.cpu.quota);
  EXPECT_FALSE(resources.cpu.period);
  EXPECT_FALSE(OomScoreAdjFromCri({}));
}

TEST(ResourcesFromCri, CopiesEveryField) {
  v1::LinuxContainerResources cri;
  cri.set_memory_limit_in_bytes(64 << 20);
  cri.set_memory_swap_limit_in_bytes(128 << 20);
  cri.set_cpu_shares(256);
  cri.set_cpu_quota(50000);
  cri.set_cpu_period(100000);
  cri.set_cpuset_cpus("0");
  cri.set_cpuset_mems("0");
  cri.set_oom_score_adj(500);
  auto* hugepage = cri.add_hugepage_limits();
  hugepage->set_page_size("2MB");
  hugepage->set_limit(2 << 20);
  (*cri.mutable_unified())["memory.high"] = "max";

  runtime::Resources resources = ResourcesFromCri(cri);
  EXPECT_EQ(*resources.memory.limit, 64 << 20);
  EXPECT_EQ(*resources.memory.swap, 128 << 20);
  EXPECT_EQ(*resources.cpu.shares, 256u);
  EXPECT_EQ(*resources.cpu.quota, 50000);
  EXPECT_EQ(*resources.cpu.period, 100000u);
  EXPECT_EQ(resources.cpu.cpus, "0");
  EXPECT_EQ(resources.cpu.mems, "0");
  ASSERT_EQ(resources.hugepage_limits.size(), 1u);
  EXPECT_EQ(resources.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(resources.unified.at("memory.high"), "max");
  EXPECT_EQ(*OomScoreAdjFromCri(cri), 500);
}

TEST(ValidateCriResources, RejectsImpossibleValues) {
  auto code = [](auto set) {
    v1::LinuxContainerResources cri;
    set(cri);
    return ValidateCriResources(cri).code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code([](auto& r) { r.set_cpu_shares(-1); }), kInvalid);
  EXPECT_EQ(code([](auto& r) { r.set_cpu_quota(-2); }), kInvalid);
  EXPECT_EQ(code([](auto& r) { r.set_memory_limit_in_bytes(4096); }), kInvalid);
  EXPECT_EQ(code([](auto& r) {
              r.set_memory_limit_in_bytes(64 << 20);
              r.set_memory_swap_limit_in_bytes(32 << 20);
            }),
            kInvalid);
  EXPECT_EQ(code([](auto& r) { r.set_oom_score_adj(1001); }), kInvalid);
  EXPECT_EQ(code([](auto& r) { (*r.mutable_unified())["../x.max"] = "1"; }), kInvalid);
  EXPECT_EQ(code([](auto& r) { r.set_cpu_quota(-1); }), absl::StatusCode::kOk);
}

}  // namespace
}  // namespace berth::pod
