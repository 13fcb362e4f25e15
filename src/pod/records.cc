#include "pod/records.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"

namespace berth::pod {
namespace {

std::string ProtoToJsonText(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return text;
}

absl::Status ProtoFromJsonText(const std::string& text, google::protobuf::Message* message,
                               const std::string& what) {
  auto status = google::protobuf::util::JsonStringToMessage(text, message);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " in record: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Field(const nlohmann::json& json, const char* key, T* out) {
  try {
    json.at(key).get_to(*out);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("record field \"", key, "\": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string SandboxName(const ::runtime::v1::PodSandboxMetadata& metadata) {
  return absl::StrCat(metadata.name(), "_", metadata.namespace_(), "_", metadata.uid(), "_",
                      metadata.attempt());
}

std::string ContainerName(const ::runtime::v1::ContainerMetadata& metadata,
                          const ::runtime::v1::PodSandboxMetadata& sandbox) {
  return absl::StrCat(metadata.name(), "_", sandbox.name(), "_", sandbox.namespace_(), "_",
                      sandbox.uid(), "_", metadata.attempt());
}

nlohmann::json ToJson(const SandboxRecord& record) {
  return {
      {"id", record.id},
      {"config", ProtoToJsonText(record.config)},
      {"runtime_handler", record.runtime_handler},
      {"state", record.state == SandboxState::kReady ? "ready" : "notready"},
      {"created_at", record.created_at},
      {"dir", record.dir},
      {"netns_path", record.netns_path},
      {"userns_path", record.userns_path},
      {"cgroup_parent", record.cgroup_parent},
      {"owns_cgroup_parent", record.owns_cgroup_parent},
      {"pause_pid", record.pause_pid},
      {"ip", record.ip},
      {"additional_ips", record.additional_ips},
  };
}

absl::StatusOr<SandboxRecord> SandboxFromJson(const nlohmann::json& json) {
  SandboxRecord record;
  std::string config, state;
  for (absl::Status status : {
           Field(json, "id", &record.id), Field(json, "config", &config),
           Field(json, "runtime_handler", &record.runtime_handler), Field(json, "state", &state),
           Field(json, "created_at", &record.created_at), Field(json, "dir", &record.dir),
           Field(json, "netns_path", &record.netns_path),
           Field(json, "cgroup_parent", &record.cgroup_parent),
           Field(json, "owns_cgroup_parent", &record.owns_cgroup_parent),
           Field(json, "pause_pid", &record.pause_pid), Field(json, "ip", &record.ip)}) {
    if (!status.ok()) return status;
  }
  if (json.contains("userns_path")) {
    absl::Status status = Field(json, "userns_path", &record.userns_path);
    if (!status.ok()) return status;
  }
  // Records written before additional_ips existed have none.
  if (json.contains("additional_ips")) {
    absl::Status status = Field(json, "additional_ips", &record.additional_ips);
    if (!status.ok()) return status;
  }
  record.state = state == "ready" ? SandboxState::kReady : SandboxState::kNotReady;
  absl::Status parsed = ProtoFromJsonText(config, &record.config, "sandbox config");
  if (!parsed.ok()) return parsed;
  return record;
}

nlohmann::json ToJson(const ContainerRecord& record) {
  return {
      {"id", record.id},
      {"sandbox_id", record.sandbox_id},
      {"config", ProtoToJsonText(record.config)},
      {"image_ref", record.image_ref},
      {"image_id", record.image_id},
      {"log_path", record.log_path},
      {"created_at", record.created_at},
      {"dir", record.dir},
  };
}

absl::StatusOr<ContainerRecord> ContainerFromJson(const nlohmann::json& json) {
  ContainerRecord record;
  std::string config;
  for (absl::Status status :
       {Field(json, "id", &record.id), Field(json, "sandbox_id", &record.sandbox_id),
        Field(json, "config", &config), Field(json, "image_ref", &record.image_ref),
        Field(json, "image_id", &record.image_id), Field(json, "log_path", &record.log_path),
        Field(json, "created_at", &record.created_at), Field(json, "dir", &record.dir)}) {
    if (!status.ok()) return status;
  }
  absl::Status parsed = ProtoFromJsonText(config, &record.config, "container config");
  if (!parsed.ok()) return parsed;
  return record;
}

}  // namespace berth::pod
