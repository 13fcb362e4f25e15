// Responses of Version, Status and RuntimeConfig: facts about the daemon itself, which
// RuntimeServiceImpl returns without calling a backend.
#pragma once

#include <string>

#include "runtime/v1/api.pb.h"

namespace berth::cri {

// Name and versions reported by Version.
inline constexpr char kRuntimeName[] = "berth";
inline constexpr char kRuntimeApiVersion[] = "v1";
inline constexpr char kKubeletApiVersion[] = "0.1.0";

// Berth's own version, from the build (the CMake project version).
const char* BerthVersion();

// Whether pods can get a network, as reported by the network module.
struct NetworkCondition {
  bool ready = false;
  std::string reason;   // one CamelCase word when not ready, e.g. "NetworkPluginNotReady"
  std::string message;  // what is missing, e.g. "no CNI config in /etc/cni/net.d"
};

// Version: runtime_name "berth", runtime_version BerthVersion(), runtime_api_version "v1",
// version "0.1.0".
runtime::v1::VersionResponse MakeVersionResponse();

// Status: RuntimeReady true, NetworkReady from `network`; the default runtime handler with no
// optional features; no verbose info.
runtime::v1::StatusResponse MakeStatusResponse(const NetworkCondition& network);

// RuntimeConfig: the cgroup driver Berth is configured with (cgroupfs unless told otherwise).
runtime::v1::RuntimeConfigResponse MakeRuntimeConfigResponse(
    runtime::v1::CgroupDriver driver = runtime::v1::CGROUPFS);

}  // namespace berth::cri
