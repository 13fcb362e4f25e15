// The resources of a container, from CRI's LinuxContainerResources to the OCI model.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "runtime/spec.h"
#include "runtime/v1/api.pb.h"

namespace berth::pod {

// Converts CRI resources to OCI ones. CRI's zero means "not set" for every number, so it leaves
// the field empty: cpu_shares, cpu_quota, cpu_period, memory_limit_in_bytes and
// memory_swap_limit_in_bytes (memory plus swap, as OCI counts it), plus cpuset_cpus,
// cpuset_mems, hugepage_limits and unified as given.
runtime::Resources ResourcesFromCri(const ::runtime::v1::LinuxContainerResources& resources);

// The oom_score_adj of CRI resources, when not zero.
std::optional<int> OomScoreAdjFromCri(const ::runtime::v1::LinuxContainerResources& resources);

// Checks client values before anything is made. Numbers the kernel takes as unsigned must not
// be negative. A memory limit, when set, is at least 4 MiB, an estimate of what the launcher
// needs to set the process up. The swap limit is not below the memory limit, and oom_score_adj is in
// [-1000, 1000]. The checks of runtime::ValidateResources (hugepage sizes, cpusets, unified
// keys) apply too. Errors are InvalidArgument naming the CRI field.
absl::Status ValidateCriResources(const ::runtime::v1::LinuxContainerResources& resources);

}  // namespace berth::pod
