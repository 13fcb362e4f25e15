// Checks of CRI requests that need no state: required fields present and well formed. Each error
// is InvalidArgument naming the field by its CRI path and the value found.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "runtime/v1/api.pb.h"

namespace berth::cri {

absl::Status ValidatePodSandboxConfig(const ::runtime::v1::PodSandboxConfig& config);

// Checks the resources of an UpdateContainerResources request (see pod::ValidateCriResources).
absl::Status ValidateUpdatedResources(const ::runtime::v1::LinuxContainerResources& resources);

absl::Status ValidateContainerConfig(const ::runtime::v1::ContainerConfig& config);

// Checks that `handler` names a runtime handler Berth has: only the default one, "", so far.
absl::Status ValidateRuntimeHandler(const std::string& handler);

// Checks that `id` (a container or sandbox id, or an id prefix) is not empty; `field` names it.
absl::Status ValidateId(const std::string& id, const char* field);

}  // namespace berth::cri
