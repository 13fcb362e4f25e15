#include "network/cni_manager.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <climits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "base/json_file.h"
#include "base/log.h"
#include "base/status.h"
#include "network/cni_invoke.h"
#include "network/cni_result.h"
#include "network/netns.h"

namespace berth::network {
namespace {

auto Log() { return Logger("network"); }

// Versions before 0.4.0 know neither CHECK nor prevResult on DEL.
bool Before040(const std::string& version) { return version.rfind("0.3.", 0) == 0; }

std::string CniArgs(const PodNetworkRequest& request) {
  return absl::StrCat("IgnoreUnknown=1;K8S_POD_NAMESPACE=", request.pod_namespace,
                      ";K8S_POD_NAME=", request.pod_name,
                      ";K8S_POD_INFRA_CONTAINER_ID=", request.sandbox_id,
                      ";K8S_POD_UID=", request.pod_uid);
}

nlohmann::json NetworkJson(const CniNetworkConfig& config) {
  return {{"path", config.path},
          {"name", config.name},
          {"cniVersion", config.cni_version},
          {"plugins", config.plugins}};
}

// The stdin of one plugin: its own object, with the network's name and version, the capability
// arguments it declared, and the previous result when there is one.
nlohmann::json PluginInput(const nlohmann::json& network, size_t index,
                           const nlohmann::json& capability_args, const nlohmann::json& prev) {
  nlohmann::json input = network["plugins"][index];
  input["name"] = network["name"];
  input["cniVersion"] = network["cniVersion"];
  nlohmann::json runtime_config = input.value("runtimeConfig", nlohmann::json::object());
  if (!runtime_config.is_object()) runtime_config = nlohmann::json::object();
  nlohmann::json capabilities = input.value("capabilities", nlohmann::json::object());
  if (capabilities.is_object()) {
    for (const auto& [key, value] : capability_args.items()) {
      auto declared = capabilities.find(key);
      if (declared != capabilities.end() && declared->is_boolean() && declared->get<bool>()) {
        runtime_config[key] = value;
      }
    }
  }
  if (!runtime_config.empty()) input["runtimeConfig"] = runtime_config;
  if (!prev.is_null()) input["prevResult"] = prev;
  return input;
}

CniCall MakeCall(const std::string& command, const nlohmann::json& record,
                 const std::string& netns, const CniManagerOptions& options) {
  CniCall call;
  call.command = command;
  call.container_id = record.value("sandbox_id", std::string());
  call.netns = netns;
  call.ifname = record.value("ifname", options.ifname);
  call.args = record.value("cni_args", std::string());
  call.bin_dirs = options.bin_dirs;
  call.timeout = options.plugin_timeout;
  return call;
}

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

}  // namespace

CniManager::CniManager(CniManagerOptions options) : options_(std::move(options)) {}

std::string CniManager::RecordPath(const std::string& sandbox_id) const {
  return JoinPath(options_.cache_dir, sandbox_id + ".json");
}

bool CniManager::Configured() { return !ListCniConfigFiles(options_.conf_dir).empty(); }

absl::StatusOr<CniNetworkConfig> CniManager::CurrentConfig() {
  std::vector<std::string> files = ListCniConfigFiles(options_.conf_dir);
  std::string key;
  if (!files.empty()) {
    struct stat st {};
    if (::stat(files.front().c_str(), &st) == 0) {
      key = absl::StrCat(files.front(), " ", st.st_size, " ", st.st_mtim.tv_sec, ".",
                         st.st_mtim.tv_nsec, " ", st.st_ino);
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (key.empty() || key != loaded_key_) {
    loaded_ = LoadCniConfig(options_.conf_dir);
    loaded_key_ = key;
    if (loaded_.ok()) {
      Log()->info("cni config loaded path={} network={} plugins={}", loaded_->path, loaded_->name,
                  loaded_->plugins.size());
    } else if (!key.empty()) {
      Log()->warn("cni config invalid error=\"{}\"", loaded_.status().ToString());
    }
  }
  return loaded_;
}

NetworkCondition CniManager::Condition() {
  auto config = CurrentConfig();
  if (!config.ok()) {
    return {false, "NetworkPluginNotReady", std::string(config.status().message())};
  }
  for (size_t i = 0; i < config->plugins.size(); ++i) {
    auto found = FindCniPlugin(config->Type(i), options_.bin_dirs);
    if (!found.ok()) {
      return {false, "NetworkPluginNotReady",
              absl::StrCat(config->path, ": ", found.status().message())};
    }
  }
  return {true, "", ""};
}

absl::Status CniManager::SetPodCidr(const std::string& cidr) {
  if (!cidr.empty()) BERTH_RETURN_IF_ERROR(ValidateCidr(cidr));
  std::lock_guard<std::mutex> lock(mutex_);
  if (pod_cidr_ != cidr) Log()->info("pod cidr set cidr={}", cidr);
  pod_cidr_ = cidr;
  return absl::OkStatus();
}

nlohmann::json CniManager::CapabilityArgs(const PodNetworkRequest& request) {
  nlohmann::json args = nlohmann::json::object();
  if (!request.port_mappings.empty()) {
    nlohmann::json mappings = nlohmann::json::array();
    for (const PortMapping& mapping : request.port_mappings) {
      nlohmann::json entry = {{"hostPort", mapping.host_port},
                              {"containerPort", mapping.container_port},
                              {"protocol", mapping.protocol}};
      if (!mapping.host_ip.empty()) entry["hostIP"] = mapping.host_ip;
      mappings.push_back(entry);
    }
    args["portMappings"] = mappings;
  }
  if (request.ingress_bps > 0 || request.egress_bps > 0) {
    // Kubernetes gives rates only; a burst this large does not limit anything beyond the rate.
    nlohmann::json bandwidth = nlohmann::json::object();
    if (request.ingress_bps > 0) {
      bandwidth["ingressRate"] = request.ingress_bps;
      bandwidth["ingressBurst"] = INT_MAX;
    }
    if (request.egress_bps > 0) {
      bandwidth["egressRate"] = request.egress_bps;
      bandwidth["egressBurst"] = INT_MAX;
    }
    args["bandwidth"] = bandwidth;
  }
  const DnsSettings& dns = request.dns;
  if (!dns.servers.empty() || !dns.searches.empty() || !dns.options.empty()) {
    args["dns"] = {{"servers", dns.servers}, {"searches", dns.searches}, {"options", dns.options}};
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!pod_cidr_.empty()) {
    args["ipRanges"] = nlohmann::json::array({nlohmann::json::array({{{"subnet", pod_cidr_}}})});
  }
  return args;
}

absl::StatusOr<PodNetworkResult> CniManager::Setup(const PodNetworkRequest& request) {
  auto config = CurrentConfig();
  if (!config.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("pod network: ", config.status().message()));
  }
  auto started = std::chrono::steady_clock::now();

  // The record goes to disk before the first plugin runs. If berthd dies during ADD, a later
  // Teardown still finds the record and undoes what ADD made.
  nlohmann::json record = {{"sandbox_id", request.sandbox_id},
                           {"ifname", options_.ifname},
                           {"cni_args", CniArgs(request)},
                           {"network", NetworkJson(*config)},
                           {"capability_args", CapabilityArgs(request)},
                           {"result", nullptr}};
  BERTH_RETURN_IF_ERROR(MakeDirs(options_.cache_dir, 0700));
  BERTH_RETURN_IF_ERROR(WriteJsonFileAtomic(RecordPath(request.sandbox_id), record, 0600));

  CniCall call = MakeCall("ADD", record, request.netns, options_);
  nlohmann::json prev;
  absl::Status failed;
  size_t reached = 0;  // plugins that ran, or may have run, ADD
  for (size_t i = 0; i < config->plugins.size(); ++i) {
    auto result = InvokeCniPlugin(
        config->Type(i), PluginInput(record["network"], i, record["capability_args"], prev), call);
    // A plugin that could not be found never ran, so it has nothing to delete.
    if (!absl::IsFailedPrecondition(result.status())) reached = i + 1;
    if (!result.ok()) {
      failed = result.status();
      break;
    }
    prev = *std::move(result);
  }
  std::vector<std::string> ips;
  if (failed.ok()) {
    auto parsed = PodIpsOf(prev, options_.ifname);
    if (parsed.ok()) {
      ips = *std::move(parsed);
    } else {
      failed = parsed.status();
    }
  }

  if (!failed.ok()) {
    record["result"] = prev;
    record["plugins_run"] = reached;
    absl::Status undone = RunDel(record, request.netns);
    if (undone.ok()) {
      (void)RemoveAll(RecordPath(request.sandbox_id));
    } else {
      (void)WriteJsonFileAtomic(RecordPath(request.sandbox_id), record, 0600);
      return Annotate(failed, absl::StrCat("pod network ", config->name, " (and DEL after it: ",
                                           undone.message(), ")"));
    }
    return Annotate(failed, absl::StrCat("pod network ", config->name));
  }

  record["result"] = prev;
  BERTH_RETURN_IF_ERROR(WriteJsonFileAtomic(RecordPath(request.sandbox_id), record, 0600));
  Log()->info("cni add done pod={} network={} ips={} duration_ms={}", request.sandbox_id,
              config->name, absl::StrJoin(ips, ","), MillisSince(started));
  return PodNetworkResult{std::move(ips), std::move(prev)};
}

absl::Status CniManager::RunDel(const nlohmann::json& record, const std::string& netns) {
  const nlohmann::json& network = record["network"];
  std::string version = network.value("cniVersion", std::string());
  nlohmann::json prev = Before040(version) ? nlohmann::json() : record.value("result", nlohmann::json());
  std::string usable_netns = !netns.empty() && IsPinnedNetns(netns) ? netns : "";
  CniCall call = MakeCall("DEL", record, usable_netns, options_);

  // Every plugin that ran ADD gets its DEL even when one before it failed, so each releases
  // what it can. The first error is returned.
  absl::Status first_error;
  size_t count = record.value("plugins_run", network["plugins"].size());
  for (size_t i = std::min(count, network["plugins"].size()); i-- > 0;) {
    std::string type = network["plugins"][i].value("type", std::string());
    auto result = InvokeCniPlugin(type, PluginInput(network, i, record["capability_args"], prev), call);
    if (!result.ok() && first_error.ok()) first_error = result.status();
  }
  return first_error;
}

absl::Status CniManager::Teardown(const std::string& sandbox_id, const std::string& netns) {
  std::string path = RecordPath(sandbox_id);
  auto record = ReadJsonFile(path);
  if (absl::IsNotFound(record.status())) return absl::OkStatus();
  if (!record.ok()) {
    // A record that cannot be read cannot be undone either, and keeping it would block every stop.
    Log()->warn("dropping unreadable cni record pod={} error=\"{}\"", sandbox_id,
                record.status().ToString());
    return RemoveAll(path);
  }
  if (!record->contains("network") || !(*record)["network"].contains("plugins")) {
    Log()->warn("dropping cni record without a network pod={}", sandbox_id);
    return RemoveAll(path);
  }
  auto started = std::chrono::steady_clock::now();
  absl::Status status = RunDel(*record, netns);
  if (!status.ok()) return Annotate(status, "pod network teardown");
  Log()->info("cni del done pod={} duration_ms={}", sandbox_id, MillisSince(started));
  return RemoveAll(path);
}

absl::Status CniManager::Check(const std::string& sandbox_id, const std::string& netns) {
  auto record = ReadJsonFile(RecordPath(sandbox_id));
  if (!record.ok()) return record.status();
  const nlohmann::json& network = (*record)["network"];
  if (Before040(network.value("cniVersion", std::string()))) return absl::OkStatus();
  CniCall call = MakeCall("CHECK", *record, netns, options_);
  nlohmann::json prev = record->value("result", nlohmann::json());
  for (size_t i = 0; i < network["plugins"].size(); ++i) {
    std::string type = network["plugins"][i].value("type", std::string());
    auto result = InvokeCniPlugin(type, PluginInput(network, i, (*record)["capability_args"], prev), call);
    if (!result.ok()) return Annotate(result.status(), "pod network check");
  }
  return absl::OkStatus();
}

bool CniManager::HasAttachment(const std::string& sandbox_id) {
  return PathExists(RecordPath(sandbox_id));
}

}  // namespace berth::network
