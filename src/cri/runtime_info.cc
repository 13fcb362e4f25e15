#include "cri/runtime_info.h"

namespace berth::cri {

const char* BerthVersion() { return BERTH_VERSION; }

runtime::v1::VersionResponse MakeVersionResponse() {
  runtime::v1::VersionResponse response;
  response.set_version(kKubeletApiVersion);
  response.set_runtime_name(kRuntimeName);
  response.set_runtime_version(BerthVersion());
  response.set_runtime_api_version(kRuntimeApiVersion);
  return response;
}

runtime::v1::StatusResponse MakeStatusResponse(const NetworkCondition& network) {
  runtime::v1::StatusResponse response;

  runtime::v1::RuntimeCondition* runtime_ready = response.mutable_status()->add_conditions();
  runtime_ready->set_type("RuntimeReady");
  runtime_ready->set_status(true);

  runtime::v1::RuntimeCondition* network_ready = response.mutable_status()->add_conditions();
  network_ready->set_type("NetworkReady");
  network_ready->set_status(network.ready);
  if (!network.ready) {
    network_ready->set_reason(network.reason);
    network_ready->set_message(network.message);
  }

  // The kubelet reads per-handler features from this list; the default handler is "".
  // Pods with userns_options mode POD get a user namespace of their own.
  auto* features = response.add_runtime_handlers()->mutable_features();
  features->set_user_namespaces(true);
  // ContainerUser honours supplemental_groups_policy Strict and reports the groups in
  // ContainerStatus.user.
  response.mutable_features()->set_supplemental_groups_policy(true);
  return response;
}

runtime::v1::RuntimeConfigResponse MakeRuntimeConfigResponse(runtime::v1::CgroupDriver driver) {
  runtime::v1::RuntimeConfigResponse response;
  response.mutable_linux()->set_cgroup_driver(driver);
  return response;
}

}  // namespace berth::cri
