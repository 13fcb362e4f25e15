// Capability sets of a container process, applied with libcap and prctl(2).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Capability numbers (CAP_CHOWN is 0, ...) of each set.
struct CapabilitySets {
  std::vector<int> bounding;
  std::vector<int> effective;
  std::vector<int> inheritable;
  std::vector<int> permitted;
  std::vector<int> ambient;
};

// Translates capability names ("CAP_CHOWN", case-insensitive). An unknown name is InvalidArgument.
// A capability this kernel lacks, or that the calling process's bounding set lacks (so it could
// never be granted), is left out and its name added to `dropped`. Absent capabilities mean
// empty sets.
absl::StatusOr<CapabilitySets> ResolveCapabilities(const std::optional<Capabilities>& names,
                                                   std::vector<std::string>* dropped);

// The names of every capability this kernel knows ("CAP_CHOWN" ... "CAP_CHECKPOINT_RESTORE"),
// in number order: what a privileged container or an `add: ALL` gets.
std::vector<std::string> AllCapabilityNames();

// True when libcap knows `name` ("CAP_NET_ADMIN", case-insensitive).
bool IsKnownCapabilityName(const std::string& name);

// Removes from the bounding set every capability not in `sets.bounding`. Needs CAP_SETPCAP, so
// it runs before the user switch.
absl::Status DropBoundingSet(const CapabilitySets& sets);

// Sets the effective, permitted and inheritable sets, then raises the ambient ones (each of which
// must be permitted and inheritable).
absl::Status ApplyCapabilitySets(const CapabilitySets& sets);

}  // namespace berth::runtime
