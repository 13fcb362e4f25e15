// User namespaces of pods: the CRI UserNamespace of a pod and its containers, turned into the
// mappings of the pod's pinned user namespace and the OCI spec entries that join it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pod/records.h"
#include "runtime/spec.h"
#include "runtime/v1/api.pb.h"

namespace berth::pod {

struct PodUserns {
  std::vector<runtime::IdMapping> uids;
  std::vector<runtime::IdMapping> gids;
};

// The mappings a pod asked for; nullopt when it asked for none (no userns_options, or mode
// NODE). A user namespace needs the pod's own network, PID and IPC namespaces and mappings that
// CheckIdMappings accepts; CONTAINER and TARGET modes are refused. Errors name the CRI field.
absl::StatusOr<std::optional<PodUserns>> PodUsernsOf(
    const ::runtime::v1::NamespaceOption& namespaces);

// The mappings in uid_map(5) form: one "inside outside count" line each.
std::string IdMapText(const std::vector<runtime::IdMapping>& mappings);

// Makes `spec` join the sandbox's user namespace, with its mappings, when it has one. A
// container may repeat the pod's userns_options but not differ from them, its user and groups
// must be mapped, and mounts with uidMappings or gidMappings (idmapped mounts) must carry the
// pod's mappings and need a pod with a user namespace. `ownership` is "idmap" or "chown" (see
// kUsernsOwnershipAnnotation).
absl::Status ApplyPodUserns(runtime::Spec& spec, const SandboxRecord& sandbox,
                            const ::runtime::v1::ContainerConfig* container,
                            const std::string& ownership);

}  // namespace berth::pod
