// Pod verbs: runp, pods, inspectp, stopp, rmp.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/status.h"
#include "cmd/berthctl/config_file.h"
#include "cmd/berthctl/filters.h"
#include "cmd/berthctl/json_output.h"
#include "cmd/berthctl/tables.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {
namespace {

using runtime::v1::RuntimeService;

absl::StatusOr<runtime::v1::PodSandboxStatusResponse> PodStatus(Session& session,
                                                               const std::string& id,
                                                               bool verbose) {
  runtime::v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(id);
  request.set_verbose(verbose);
  return session.client().Call(&RuntimeService::Stub::PodSandboxStatus, request,
                               session.client().ReadTimeout());
}

absl::StatusOr<int> RunRunp(Session& session, const std::string& handler, const Args& args) {
  absl::StatusOr<runtime::v1::PodSandboxConfig> config = LoadPodSandboxConfig(args[0]);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::string> id = RunPod(session, *config, handler);
  if (!id.ok()) return id.status();
  std::cout << *id << "\n";
  return 0;
}

struct PodsOptions {
  std::string id;
  std::string name;
  std::string namespace_;
  std::string state;
  std::vector<std::string> labels;
  bool quiet = false;
  bool no_trunc = false;
  bool latest = false;
  int64_t last = 0;
  std::string output = "table";
};

absl::StatusOr<runtime::v1::ListPodSandboxRequest> PodsRequest(const PodsOptions& options) {
  runtime::v1::ListPodSandboxRequest request;
  auto* filter = request.mutable_filter();
  filter->set_id(options.id);
  if (!options.state.empty()) {
    absl::StatusOr<runtime::v1::PodSandboxState> state = ParsePodState(options.state);
    if (!state.ok()) return state.status();
    filter->mutable_state()->set_state(*state);
  }
  absl::StatusOr<std::map<std::string, std::string>> labels = ParseLabelSelector(options.labels);
  if (!labels.ok()) return labels.status();
  filter->mutable_label_selector()->insert(labels->begin(), labels->end());
  return request;
}

absl::StatusOr<int> RunPods(Session& session, const PodsOptions& options) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(options.output, /*allow_table=*/true);
  if (!format.ok()) return format.status();
  absl::StatusOr<NameMatcher> name = NameMatcher::Create(options.name, "name");
  if (!name.ok()) return name.status();
  absl::StatusOr<NameMatcher> namespace_ = NameMatcher::Create(options.namespace_, "namespace");
  if (!namespace_.ok()) return namespace_.status();
  absl::StatusOr<runtime::v1::ListPodSandboxRequest> request = PodsRequest(options);
  if (!request.ok()) return request.status();

  absl::StatusOr<runtime::v1::ListPodSandboxResponse> response = session.client().Call(
      &RuntimeService::Stub::ListPodSandbox, *request, session.client().ReadTimeout());
  if (!response.ok()) return response.status();

  std::vector<runtime::v1::PodSandbox> pods;
  for (const auto& pod : response->items()) {
    if (name->Matches(pod.metadata().name()) && namespace_->Matches(pod.metadata().namespace_())) {
      pods.push_back(pod);
    }
  }
  NewestFirst(&pods, options.latest, options.last);

  if (options.quiet) {
    for (const auto& pod : pods) std::cout << pod.id() << "\n";
    return 0;
  }
  if (*format == OutputFormat::kTable) {
    std::cout << PodsTable(pods, {options.no_trunc, NowNanos()});
    return 0;
  }
  runtime::v1::ListPodSandboxResponse filtered;
  for (auto& pod : pods) *filtered.add_items() = std::move(pod);
  absl::StatusOr<nlohmann::ordered_json> tree = MessageToJsonTree(filtered);
  if (!tree.ok()) return tree.status();
  std::cout << RenderTree(*tree, *format);
  return 0;
}

absl::StatusOr<int> RunInspectp(Session& session, const std::string& output, const Args& args) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(output, /*allow_table=*/false);
  if (!format.ok()) return format.status();
  return ForEachId(session, args, [&](const std::string& id) -> absl::Status {
    absl::StatusOr<runtime::v1::PodSandboxStatusResponse> response =
        PodStatus(session, id, /*verbose=*/true);
    if (!response.ok()) return response.status();
    absl::StatusOr<nlohmann::ordered_json> tree =
        StatusWithInfo(response->status(), response->info());
    if (!tree.ok()) return tree.status();
    std::cout << RenderTree(*tree, *format);
    return absl::OkStatus();
  });
}

absl::Status StopOnePod(Session& session, const std::string& id) {
  BERTH_RETURN_IF_ERROR(StopPod(session, id));
  std::cout << "Stopped sandbox " << id << "\n";
  return absl::OkStatus();
}

absl::Status RemoveOnePod(Session& session, const std::string& id, bool force) {
  if (force) {
    BERTH_RETURN_IF_ERROR(StopPod(session, id));
  } else {
    // Like crictl, reject removing a ready pod unless --force is given.
    absl::StatusOr<runtime::v1::PodSandboxStatusResponse> status =
        PodStatus(session, id, /*verbose=*/false);
    if (!status.ok()) return status.status();
    if (status->status().state() == runtime::v1::SANDBOX_READY) {
      return absl::FailedPreconditionError(absl::StrCat(
          "pod sandbox ", id, " is running; stop it first (stopp) or use --force"));
    }
  }
  BERTH_RETURN_IF_ERROR(RemovePod(session, id));
  std::cout << "Removed sandbox " << id << "\n";
  return absl::OkStatus();
}

absl::StatusOr<int> RunRmp(Session& session, bool force, bool all, const Args& args) {
  if (all == !args.empty()) {
    return absl::InvalidArgumentError("expected pod ids to remove or --all, not both");
  }
  Args ids = args;
  if (all) {
    absl::StatusOr<runtime::v1::ListPodSandboxResponse> list =
        session.client().Call(&RuntimeService::Stub::ListPodSandbox,
                              runtime::v1::ListPodSandboxRequest(), session.client().ReadTimeout());
    if (!list.ok()) return list.status();
    for (const auto& pod : list->items()) ids.push_back(pod.id());
  }
  return ForEachId(session, ids,
                   [&](const std::string& id) { return RemoveOnePod(session, id, force); });
}

}  // namespace

absl::StatusOr<std::string> RunPod(Session& session, const runtime::v1::PodSandboxConfig& config,
                                   const std::string& handler) {
  runtime::v1::RunPodSandboxRequest request;
  *request.mutable_config() = config;
  request.set_runtime_handler(handler);
  absl::StatusOr<runtime::v1::RunPodSandboxResponse> response = session.client().Call(
      &RuntimeService::Stub::RunPodSandbox, request, session.client().ChangeTimeout());
  if (!response.ok()) return response.status();
  return response->pod_sandbox_id();
}

absl::Status StopPod(Session& session, const std::string& id) {
  runtime::v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  return session.client()
      .Call(&RuntimeService::Stub::StopPodSandbox, request, session.client().ChangeTimeout())
      .status();
}

absl::Status RemovePod(Session& session, const std::string& id) {
  runtime::v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  return session.client()
      .Call(&RuntimeService::Stub::RemovePodSandbox, request, session.client().ChangeTimeout())
      .status();
}

VerbGroup PodVerbs() {
  VerbGroup group{"Pods", {}};

  group.verbs.push_back(Verb{
      .name = "runp",
      .args = "POD-CONFIG",
      .summary = "Run a new pod sandbox",
      .details = "Creates a pod sandbox from POD-CONFIG, a crictl pod config in JSON or YAML\n"
                 "(proto names such as log_directory or JSON names such as logDirectory), and\n"
                 "prints its id.\n",
      .min_args = 1,
      .max_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto handler = std::make_shared<std::string>();
            flags.AddString("runtime", 'r', handler.get(), "HANDLER",
                            "runtime handler to run the pod with (default: the runtime's)");
            return Action([handler](Session& session, const Args& args) {
              return RunRunp(session, *handler, args);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "pods",
      .args = "",
      .summary = "List pod sandboxes",
      .details = "Lists pod sandboxes, newest first. Filters combine: a pod is shown when it\n"
                 "matches all of them.\n",
      .min_args = 0,
      .max_args = 0,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<PodsOptions>();
            flags.AddString("id", 0, &options->id, "ID", "show only the pod with this id");
            flags.AddString("name", 0, &options->name, "REGEXP",
                            "show only pods whose name matches");
            flags.AddString("namespace", 0, &options->namespace_, "REGEXP",
                            "show only pods whose namespace matches");
            flags.AddString("state", 's', &options->state, "STATE",
                            "show only pods in this state: ready or notready");
            flags.AddStringList("label", 0, &options->labels, "KEY=VALUE",
                                "show only pods with this label (repeatable)");
            flags.AddBool("quiet", 'q', &options->quiet, "print only pod ids");
            flags.AddBool("no-trunc", 0, &options->no_trunc, "show ids in full");
            flags.AddBool("latest", 'l', &options->latest, "show only the newest pod");
            flags.AddInt("last", 'n', &options->last, "N", "show only the N newest pods");
            AddOutputFlag(flags, &options->output, /*allow_table=*/true);
            return Action([options](Session& session, const Args&) {
              return RunPods(session, *options);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "inspectp",
      .args = "ID [ID...]",
      .summary = "Show the full status of pod sandboxes",
      .details = "Prints the status of each pod (CRI PodSandboxStatus, verbose), with the\n"
                 "details the runtime adds under \"info\". An id prefix is enough.\n",
      .min_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto output = std::make_shared<std::string>("json");
            AddOutputFlag(flags, output.get(), /*allow_table=*/false);
            return Action([output](Session& session, const Args& args) {
              return RunInspectp(session, *output, args);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "stopp",
      .args = "ID [ID...]",
      .summary = "Stop pod sandboxes",
      .details = "Stops every container of each pod and the pod itself, and releases its\n"
                 "network. Stopping a stopped pod succeeds.\n",
      .min_args = 1,
      .setup =
          [](FlagSet&) {
            return Action([](Session& session, const Args& args) -> absl::StatusOr<int> {
              return ForEachId(session, args,
                               [&](const std::string& id) { return StopOnePod(session, id); });
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "rmp",
      .args = "ID [ID...]",
      .summary = "Remove pod sandboxes",
      .details = "Removes each pod and its containers. A pod that is still ready is refused\n"
                 "unless --force is given, which stops it first.\n",
      .min_args = 0,
      .setup =
          [](FlagSet& flags) {
            auto force = std::make_shared<bool>(false);
            auto all = std::make_shared<bool>(false);
            flags.AddBool("force", 'f', force.get(), "stop ready pods before removing them");
            flags.AddBool("all", 'a', all.get(), "remove every pod");
            return Action([force, all](Session& session, const Args& args) {
              return RunRmp(session, *force, *all, args);
            });
          },
  });
  return group;
}

}  // namespace berth::ctl
