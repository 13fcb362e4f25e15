// The OCI JSON form of a seccomp filter (linux.seccomp, and the files of Localhost profiles).
#include <set>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& where, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("seccomp: ", where, ": ", reason));
}

template <typename T>
absl::Status Read(const json& obj, const std::string& where, const char* key, T* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  try {
    *out = it->template get<T>();
  } catch (const json::exception& e) {
    return Bad(where + key, e.what());
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Read(const json& obj, const std::string& where, const char* key,
                  std::optional<T>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  T value{};
  BERTH_RETURN_IF_ERROR(Read(obj, where, key, &value));
  *out = value;
  return absl::OkStatus();
}

absl::StatusOr<SeccompArg> ParseArg(const json& obj, const std::string& where) {
  if (!obj.is_object()) return Bad(where, "must be an object");
  SeccompArg arg;
  BERTH_RETURN_IF_ERROR(Read(obj, where, "index", &arg.index));
  BERTH_RETURN_IF_ERROR(Read(obj, where, "value", &arg.value));
  BERTH_RETURN_IF_ERROR(Read(obj, where, "valueTwo", &arg.value_two));
  BERTH_RETURN_IF_ERROR(Read(obj, where, "op", &arg.op));
  return arg;
}

absl::StatusOr<SeccompSyscall> ParseSyscall(const json& obj, const std::string& where) {
  if (!obj.is_object()) return Bad(where, "must be an object");
  // Docker's profile format adds conditions that the OCI form cannot express. Applying such a
  // rule without its condition would allow more than the author meant, so it is rejected.
  for (const char* docker_only : {"includes", "excludes"}) {
    if (obj.contains(docker_only)) {
      return Bad(where + docker_only, "Docker profile conditions are not part of the OCI format");
    }
  }
  SeccompSyscall rule;
  BERTH_RETURN_IF_ERROR(Read(obj, where, "names", &rule.names));
  std::string single;
  BERTH_RETURN_IF_ERROR(Read(obj, where, "name", &single));
  if (!single.empty()) rule.names.push_back(single);
  BERTH_RETURN_IF_ERROR(Read(obj, where, "action", &rule.action));
  BERTH_RETURN_IF_ERROR(Read(obj, where, "errnoRet", &rule.errno_ret));
  auto args = obj.find("args");
  if (args != obj.end() && !args->is_null()) {
    if (!args->is_array()) return Bad(where + "args", "must be an array");
    for (size_t i = 0; i < args->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(SeccompArg arg,
                             ParseArg((*args)[i], absl::StrCat(where, "args[", i, "].")));
      rule.args.push_back(arg);
    }
  }
  return rule;
}

const std::set<std::string>& KnownActions() {
  static const std::set<std::string> actions = {
      "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
      "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE",        "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG"};
  return actions;
}

const std::set<std::string>& KnownOperators() {
  static const std::set<std::string> ops = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                                            "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                            "SCMP_CMP_MASKED_EQ"};
  return ops;
}

const std::set<std::string>& KnownFlags() {
  static const std::set<std::string> flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                              "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  return flags;
}

absl::Status CheckAction(const std::string& action, const std::string& where) {
  if (action == "SCMP_ACT_NOTIFY") {
    return absl::UnimplementedError(
        absl::StrCat("seccomp: ", where, ": SCMP_ACT_NOTIFY is not supported"));
  }
  if (!KnownActions().contains(action)) {
    return Bad(where, absl::StrCat("unknown action \"", action, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Seccomp> SeccompFromJson(const json& obj, const std::string& where) {
  if (!obj.is_object()) return Bad(where.empty() ? "document" : where, "must be an object");
  Seccomp seccomp;
  BERTH_RETURN_IF_ERROR(Read(obj, where, "defaultAction", &seccomp.default_action));
  BERTH_RETURN_IF_ERROR(Read(obj, where, "defaultErrnoRet", &seccomp.default_errno_ret));
  BERTH_RETURN_IF_ERROR(Read(obj, where, "architectures", &seccomp.architectures));
  BERTH_RETURN_IF_ERROR(Read(obj, where, "flags", &seccomp.flags));
  if (obj.contains("listenerPath") && !obj["listenerPath"].is_null()) {
    return absl::UnimplementedError(
        absl::StrCat("seccomp: ", where, "listenerPath: seccomp notification is not supported"));
  }
  auto syscalls = obj.find("syscalls");
  if (syscalls != obj.end() && !syscalls->is_null()) {
    if (!syscalls->is_array()) return Bad(where + "syscalls", "must be an array");
    for (size_t i = 0; i < syscalls->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(
          SeccompSyscall rule,
          ParseSyscall((*syscalls)[i], absl::StrCat(where, "syscalls[", i, "].")));
      seccomp.syscalls.push_back(std::move(rule));
    }
  }
  return seccomp;
}

json SeccompToJson(const Seccomp& seccomp) {
  json out = {{"defaultAction", seccomp.default_action}};
  if (seccomp.default_errno_ret) out["defaultErrnoRet"] = *seccomp.default_errno_ret;
  if (!seccomp.architectures.empty()) out["architectures"] = seccomp.architectures;
  if (!seccomp.flags.empty()) out["flags"] = seccomp.flags;
  json syscalls = json::array();
  for (const SeccompSyscall& rule : seccomp.syscalls) {
    json item = {{"names", rule.names}, {"action", rule.action}};
    if (rule.errno_ret) item["errnoRet"] = *rule.errno_ret;
    if (!rule.args.empty()) {
      json args = json::array();
      for (const SeccompArg& arg : rule.args) {
        args.push_back({{"index", arg.index},
                        {"value", arg.value},
                        {"valueTwo", arg.value_two},
                        {"op", arg.op}});
      }
      item["args"] = std::move(args);
    }
    syscalls.push_back(std::move(item));
  }
  out["syscalls"] = std::move(syscalls);
  return out;
}

absl::Status ValidateSeccomp(const Seccomp& seccomp, const std::string& where) {
  if (seccomp.default_action.empty()) return Bad(where + "defaultAction", "is missing");
  BERTH_RETURN_IF_ERROR(CheckAction(seccomp.default_action, where + "defaultAction"));
  for (const std::string& flag : seccomp.flags) {
    if (!KnownFlags().contains(flag)) {
      return Bad(where + "flags", absl::StrCat("unknown flag \"", flag, "\""));
    }
  }
  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    const SeccompSyscall& rule = seccomp.syscalls[i];
    std::string at = absl::StrCat(where, "syscalls[", i, "].");
    if (rule.names.empty()) return Bad(at + "names", "is empty");
    BERTH_RETURN_IF_ERROR(CheckAction(rule.action, at + "action"));
    if (rule.args.size() > 6) return Bad(at + "args", "a syscall has at most 6 arguments");
    for (size_t j = 0; j < rule.args.size(); ++j) {
      const SeccompArg& arg = rule.args[j];
      std::string arg_at = absl::StrCat(at, "args[", j, "].");
      if (arg.index > 5) return Bad(arg_at + "index", absl::StrCat(arg.index, " is above 5"));
      if (!KnownOperators().contains(arg.op)) {
        return Bad(arg_at + "op", absl::StrCat("unknown operator \"", arg.op, "\""));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Seccomp> ReadSeccompFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return Annotate(text.status(), absl::StrCat("seccomp profile ", path));
  json document = json::parse(*text, nullptr, false);
  if (document.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("seccomp profile ", path, ": not valid JSON"));
  }
  absl::StatusOr<Seccomp> seccomp = SeccompFromJson(document, "");
  if (seccomp.ok()) {
    absl::Status valid = ValidateSeccomp(*seccomp, "");
    if (!valid.ok()) return Annotate(valid, absl::StrCat("seccomp profile ", path));
    return seccomp;
  }
  return Annotate(seccomp.status(), absl::StrCat("seccomp profile ", path));
}

}  // namespace berth::runtime
