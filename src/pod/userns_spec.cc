#include "pod/userns_spec.h"

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "runtime/linux/launcher.h"

namespace berth::pod {
namespace {

constexpr char kField[] = "config.linux.security_context.namespace_options.userns_options";

std::vector<runtime::IdMapping> MappingsOf(
    const google::protobuf::RepeatedPtrField<::runtime::v1::IDMapping>& list) {
  std::vector<runtime::IdMapping> out;
  for (const auto& m : list) out.push_back({m.container_id(), m.host_id(), m.length()});
  return out;
}

bool SameMappings(const std::vector<runtime::IdMapping>& a,
                  const std::vector<runtime::IdMapping>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].container_id != b[i].container_id || a[i].host_id != b[i].host_id ||
        a[i].size != b[i].size) {
      return false;
    }
  }
  return true;
}

absl::Status CheckMapped(const std::vector<runtime::IdMapping>& mappings, uint32_t id,
                         const char* what) {
  if (runtime::MapToHost(mappings, id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " ", id, " is outside the pod's user namespace: the sandbox config's ",
                   std::string(kField).substr(7), " does not map it"));
}

}  // namespace

absl::StatusOr<std::optional<PodUserns>> PodUsernsOf(
    const ::runtime::v1::NamespaceOption& namespaces) {
  if (!namespaces.has_userns_options()) return std::nullopt;
  const ::runtime::v1::UserNamespace& userns = namespaces.userns_options();
  if (userns.mode() == ::runtime::v1::NODE) {
    if (userns.uids_size() > 0 || userns.gids_size() > 0) {
      return absl::InvalidArgumentError(absl::StrCat(kField, ": mode NODE takes no uids or gids"));
    }
    return std::nullopt;
  }
  if (userns.mode() != ::runtime::v1::POD) {
    return absl::InvalidArgumentError(absl::StrCat(kField, ".mode ",
                                                   ::runtime::v1::NamespaceMode_Name(userns.mode()),
                                                   " is not supported; use POD or NODE"));
  }
  for (auto [mode, name] :
       {std::pair{namespaces.network(), "network"}, std::pair{namespaces.pid(), "pid"},
        std::pair{namespaces.ipc(), "ipc"}}) {
    if (mode == ::runtime::v1::NODE) {
      return absl::InvalidArgumentError(
          absl::StrCat(kField, ": a pod with its own user namespace cannot share the node's ", name,
                       " namespace"));
    }
  }
  PodUserns out{MappingsOf(userns.uids()), MappingsOf(userns.gids())};
  BERTH_RETURN_IF_ERROR(runtime::CheckIdMappings(out.uids, absl::StrCat(kField, ".uids")));
  BERTH_RETURN_IF_ERROR(runtime::CheckIdMappings(out.gids, absl::StrCat(kField, ".gids")));
  return out;
}

std::string IdMapText(const std::vector<runtime::IdMapping>& mappings) {
  std::string text;
  for (const runtime::IdMapping& m : mappings) {
    absl::StrAppend(&text, m.container_id, " ", m.host_id, " ", m.size, "\n");
  }
  return text;
}

absl::Status ApplyPodUserns(runtime::Spec& spec, const SandboxRecord& sandbox,
                            const ::runtime::v1::ContainerConfig* container,
                            const std::string& ownership) {
  const ::runtime::v1::NamespaceOption* own =
      container != nullptr ? &container->linux().security_context().namespace_options() : nullptr;
  bool asks = own != nullptr && own->has_userns_options();
  if (sandbox.userns_path.empty()) {
    if (asks && own->userns_options().mode() == ::runtime::v1::POD) {
      return absl::InvalidArgumentError(
          absl::StrCat(kField, ": the container asks for a user namespace its pod does not have"));
    }
    for (int i = 0; container != nullptr && i < container->mounts_size(); ++i) {
      const ::runtime::v1::Mount& mount = container->mounts(i);
      if (mount.uidmappings_size() > 0 || mount.gidmappings_size() > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("config.mounts[", i, "] (", mount.container_path(),
                         "): idmapped mounts need a pod with a user namespace (", kField, ")"));
      }
    }
    return absl::OkStatus();
  }
  BERTH_ASSIGN_OR_RETURN(
      std::optional<PodUserns> pod,
      PodUsernsOf(sandbox.config.linux().security_context().namespace_options()));
  if (!pod) return absl::InternalError("the sandbox has a user namespace but no userns_options");
  if (asks) {
    const ::runtime::v1::UserNamespace& theirs = own->userns_options();
    if (theirs.mode() != ::runtime::v1::POD ||
        !SameMappings(MappingsOf(theirs.uids()), pod->uids) ||
        !SameMappings(MappingsOf(theirs.gids()), pod->gids)) {
      return absl::InvalidArgumentError(
          absl::StrCat(kField, ": a container must use its pod's user namespace as it is"));
    }
  }
  if (container != nullptr) {
    for (int i = 0; i < container->mounts_size(); ++i) {
      const ::runtime::v1::Mount& mount = container->mounts(i);
      if (mount.uidmappings_size() == 0 && mount.gidmappings_size() == 0) continue;
      if (!SameMappings(MappingsOf(mount.uidmappings()), pod->uids) ||
          !SameMappings(MappingsOf(mount.gidmappings()), pod->gids)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config.mounts[", i, "] (", mount.container_path(),
            "): uidMappings and gidMappings must equal the pod's user namespace mappings"));
      }
    }
  }
  spec.linux.namespaces.push_back({"user", sandbox.userns_path});
  spec.linux.uid_mappings = pod->uids;
  spec.linux.gid_mappings = pod->gids;
  spec.annotations[runtime::kUsernsOwnershipAnnotation] = ownership;
  const runtime::User& user = spec.process.user;
  BERTH_RETURN_IF_ERROR(CheckMapped(pod->uids, user.uid, "user id"));
  BERTH_RETURN_IF_ERROR(CheckMapped(pod->gids, user.gid, "group id"));
  for (uint32_t gid : user.additional_gids) {
    BERTH_RETURN_IF_ERROR(CheckMapped(pod->gids, gid, "supplemental group"));
  }
  return absl::OkStatus();
}

}  // namespace berth::pod
