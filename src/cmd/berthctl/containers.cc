// Container verbs: create, start, ps, inspect, stop, rm, run. Logs and exec have files of
// their own.
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

absl::StatusOr<runtime::v1::ContainerStatusResponse> ContainerStatus(Session& session,
                                                                    const std::string& id,
                                                                    bool verbose) {
  runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(verbose);
  return session.client().Call(&RuntimeService::Stub::ContainerStatus, request,
                               session.client().ReadTimeout());
}

absl::StatusOr<std::string> CreateContainer(Session& session, const std::string& pod_id,
                                            const runtime::v1::ContainerConfig& config,
                                            const runtime::v1::PodSandboxConfig& sandbox) {
  runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod_id);
  *request.mutable_config() = config;
  *request.mutable_sandbox_config() = sandbox;
  absl::StatusOr<runtime::v1::CreateContainerResponse> response = session.client().Call(
      &RuntimeService::Stub::CreateContainer, request, session.client().ChangeTimeout());
  if (!response.ok()) return response.status();
  return response->container_id();
}

absl::Status StartContainer(Session& session, const std::string& id) {
  runtime::v1::StartContainerRequest request;
  request.set_container_id(id);
  return session.client()
      .Call(&RuntimeService::Stub::StartContainer, request, session.client().ChangeTimeout())
      .status();
}

absl::Status StopContainer(Session& session, const std::string& id, int64_t grace_seconds) {
  runtime::v1::StopContainerRequest request;
  request.set_container_id(id);
  request.set_timeout(grace_seconds);
  return session.client()
      .Call(&RuntimeService::Stub::StopContainer, request,
            session.client().ChangeTimeout(std::chrono::seconds(grace_seconds)))
      .status();
}

absl::Status RemoveContainer(Session& session, const std::string& id) {
  runtime::v1::RemoveContainerRequest request;
  request.set_container_id(id);
  return session.client()
      .Call(&RuntimeService::Stub::RemoveContainer, request, session.client().ChangeTimeout())
      .status();
}

// --- create -------------------------------------------------------------------------------

struct CreateOptions {
  bool with_pull = false;
  AuthFlags auth;
};

absl::StatusOr<int> RunCreate(Session& session, const CreateOptions& options, const Args& args) {
  // The arguments are POD-ID CONTAINER-CONFIG POD-CONFIG; naming the argument in the error
  // makes swapped arguments obvious.
  absl::StatusOr<runtime::v1::ContainerConfig> config = LoadContainerConfig(args[1]);
  if (!config.ok()) return Annotate(config.status(), "CONTAINER-CONFIG (second argument)");
  absl::StatusOr<runtime::v1::PodSandboxConfig> sandbox = LoadPodSandboxConfig(args[2]);
  if (!sandbox.ok()) return Annotate(sandbox.status(), "POD-CONFIG (third argument)");

  if (options.with_pull) {
    absl::StatusOr<std::string> ref =
        PullImage(session, config->image().image(), options.auth, &*sandbox);
    if (!ref.ok()) return Annotate(ref.status(), absl::StrCat("pull ", config->image().image()));
  }
  absl::StatusOr<std::string> id = CreateContainer(session, args[0], *config, *sandbox);
  if (!id.ok()) return id.status();
  std::cout << *id << "\n";
  return 0;
}

// --- ps -----------------------------------------------------------------------------------

struct PsOptions {
  bool all = false;
  std::string id;
  std::string pod;
  std::string state;
  std::string name;
  std::string image;
  std::vector<std::string> labels;
  bool quiet = false;
  bool no_trunc = false;
  bool latest = false;
  int64_t last = 0;
  std::string output = "table";
};

absl::StatusOr<runtime::v1::ListContainersRequest> PsRequest(const PsOptions& options) {
  runtime::v1::ListContainersRequest request;
  auto* filter = request.mutable_filter();
  filter->set_id(options.id);
  filter->set_pod_sandbox_id(options.pod);
  if (!options.state.empty()) {
    absl::StatusOr<runtime::v1::ContainerState> state = ParseContainerState(options.state);
    if (!state.ok()) return state.status();
    filter->mutable_state()->set_state(*state);
  } else if (!options.all) {
    filter->mutable_state()->set_state(runtime::v1::CONTAINER_RUNNING);
  }
  absl::StatusOr<std::map<std::string, std::string>> labels = ParseLabelSelector(options.labels);
  if (!labels.ok()) return labels.status();
  filter->mutable_label_selector()->insert(labels->begin(), labels->end());
  return request;
}

// Names of all pods by id, for the POD column.
absl::StatusOr<std::map<std::string, std::string>> PodNames(Session& session) {
  absl::StatusOr<runtime::v1::ListPodSandboxResponse> pods =
      session.client().Call(&RuntimeService::Stub::ListPodSandbox,
                            runtime::v1::ListPodSandboxRequest(), session.client().ReadTimeout());
  if (!pods.ok()) return pods.status();
  std::map<std::string, std::string> names;
  for (const auto& pod : pods->items()) names[pod.id()] = pod.metadata().name();
  return names;
}

absl::StatusOr<int> RunPs(Session& session, const PsOptions& options) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(options.output, /*allow_table=*/true);
  if (!format.ok()) return format.status();
  absl::StatusOr<NameMatcher> name = NameMatcher::Create(options.name, "name");
  if (!name.ok()) return name.status();
  absl::StatusOr<runtime::v1::ListContainersRequest> request = PsRequest(options);
  if (!request.ok()) return request.status();

  absl::StatusOr<runtime::v1::ListContainersResponse> response = session.client().Call(
      &RuntimeService::Stub::ListContainers, *request, session.client().ReadTimeout());
  if (!response.ok()) return response.status();

  std::vector<runtime::v1::Container> containers;
  for (const auto& container : response->containers()) {
    if (name->Matches(container.metadata().name()) &&
        ContainerUsesImage(container, options.image)) {
      containers.push_back(container);
    }
  }
  NewestFirst(&containers, options.latest, options.last);

  if (options.quiet) {
    for (const auto& container : containers) std::cout << container.id() << "\n";
    return 0;
  }
  if (*format == OutputFormat::kTable) {
    absl::StatusOr<std::map<std::string, std::string>> pod_names = PodNames(session);
    if (!pod_names.ok()) return Annotate(pod_names.status(), "list pods for the POD column");
    std::cout << ContainersTable(containers, *pod_names, {options.no_trunc, NowNanos()});
    return 0;
  }
  runtime::v1::ListContainersResponse filtered;
  for (auto& container : containers) *filtered.add_containers() = std::move(container);
  absl::StatusOr<nlohmann::ordered_json> tree = MessageToJsonTree(filtered);
  if (!tree.ok()) return tree.status();
  std::cout << RenderTree(*tree, *format);
  return 0;
}

// --- inspect, start, stop, rm ---------------------------------------------------------------

absl::StatusOr<int> RunInspect(Session& session, const std::string& output, const Args& args) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(output, /*allow_table=*/false);
  if (!format.ok()) return format.status();
  return ForEachId(session, args, [&](const std::string& id) -> absl::Status {
    absl::StatusOr<runtime::v1::ContainerStatusResponse> response =
        ContainerStatus(session, id, /*verbose=*/true);
    if (!response.ok()) return response.status();
    absl::StatusOr<nlohmann::ordered_json> tree =
        StatusWithInfo(response->status(), response->info());
    if (!tree.ok()) return tree.status();
    std::cout << RenderTree(*tree, *format);
    return absl::OkStatus();
  });
}

absl::Status RemoveOneContainer(Session& session, const std::string& id, bool force) {
  absl::StatusOr<runtime::v1::ContainerStatusResponse> status =
      ContainerStatus(session, id, /*verbose=*/false);
  if (!status.ok()) return status.status();
  if (status->status().state() == runtime::v1::CONTAINER_RUNNING) {
    // Like crictl, reject removing a running container unless --force is given.
    if (!force) {
      return absl::FailedPreconditionError(absl::StrCat(
          "container ", id, " is running; stop it first (stop) or use --force"));
    }
    BERTH_RETURN_IF_ERROR(StopContainer(session, id, 0));
  }
  BERTH_RETURN_IF_ERROR(RemoveContainer(session, id));
  std::cout << id << "\n";
  return absl::OkStatus();
}

absl::StatusOr<int> RunRm(Session& session, bool force, bool all, const Args& args) {
  if (all == !args.empty()) {
    return absl::InvalidArgumentError("expected container ids to remove or --all, not both");
  }
  Args ids = args;
  if (all) {
    absl::StatusOr<runtime::v1::ListContainersResponse> list =
        session.client().Call(&RuntimeService::Stub::ListContainers,
                              runtime::v1::ListContainersRequest(), session.client().ReadTimeout());
    if (!list.ok()) return list.status();
    for (const auto& container : list->containers()) ids.push_back(container.id());
  }
  return ForEachId(session, ids,
                   [&](const std::string& id) { return RemoveOneContainer(session, id, force); });
}

// --- run ----------------------------------------------------------------------------------

struct RunOptions {
  std::string handler;
  bool with_pull = false;
  bool no_pull = false;
  AuthFlags auth;
};

// Pulls the container's image when --with-pull is given, or when the runtime does not have it.
absl::Status EnsureImage(Session& session, const RunOptions& options,
                         const runtime::v1::ContainerConfig& config,
                         const runtime::v1::PodSandboxConfig& sandbox) {
  const std::string& image = config.image().image();
  if (options.no_pull) return absl::OkStatus();
  if (!options.with_pull) {
    absl::StatusOr<bool> present = HasImage(session, image);
    if (!present.ok()) return Annotate(present.status(), absl::StrCat("look up image ", image));
    if (*present) return absl::OkStatus();
  }
  return Annotate(PullImage(session, image, options.auth, &sandbox).status(),
                  absl::StrCat("pull ", image));
}

absl::StatusOr<int> RunRun(Session& session, const RunOptions& options, const Args& args) {
  if (options.with_pull && options.no_pull) {
    return absl::InvalidArgumentError("--with-pull and --no-pull cannot be used together");
  }
  absl::StatusOr<runtime::v1::ContainerConfig> config = LoadContainerConfig(args[0]);
  if (!config.ok()) return config.status();
  absl::StatusOr<runtime::v1::PodSandboxConfig> sandbox = LoadPodSandboxConfig(args[1]);
  if (!sandbox.ok()) return sandbox.status();

  BERTH_RETURN_IF_ERROR(EnsureImage(session, options, *config, *sandbox));
  absl::StatusOr<std::string> pod_id = RunPod(session, *sandbox, options.handler);
  if (!pod_id.ok()) return Annotate(pod_id.status(), "run pod");

  // From here a failure removes the pod again, so a failed run leaves nothing behind.
  absl::StatusOr<std::string> container_id = CreateContainer(session, *pod_id, *config, *sandbox);
  absl::Status status = container_id.ok() ? StartContainer(session, *container_id)
                                           : Annotate(container_id.status(), "create container");
  if (container_id.ok() && !status.ok()) status = Annotate(status, "start container");
  if (!status.ok()) {
    absl::Status undo = StopPod(session, *pod_id);
    if (undo.ok()) undo = RemovePod(session, *pod_id);
    std::cerr << "berthctl: run: "
              << (undo.ok() ? absl::StrCat("removed pod ", *pod_id, " after the failure")
                            : absl::StrCat("could not remove pod ", *pod_id, ": ",
                                           undo.message()))
              << std::endl;
    return status;
  }
  std::cout << *container_id << "\n";
  return 0;
}

}  // namespace

VerbGroup ContainerVerbs() {
  VerbGroup group{"Containers", {}};

  group.verbs.push_back(Verb{
      .name = "create",
      .args = "POD-ID CONTAINER-CONFIG POD-CONFIG",
      .summary = "Create a container in a pod sandbox",
      .details = "Creates a container (not yet started) in the pod POD-ID from CONTAINER-CONFIG\n"
                 "and the pod's POD-CONFIG, crictl configs in JSON or YAML, and prints its id.\n"
                 "The image must be present unless --with-pull is given.\n",
      .min_args = 3,
      .max_args = 3,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<CreateOptions>();
            flags.AddBool("with-pull", 0, &options->with_pull, "pull the image first");
            AddAuthFlags(flags, &options->auth);
            return Action([options](Session& session, const Args& args) {
              return RunCreate(session, *options, args);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "start",
      .args = "ID [ID...]",
      .summary = "Start created containers",
      .details = "Starts each created container and prints its id.\n",
      .min_args = 1,
      .setup =
          [](FlagSet&) {
            return Action([](Session& session, const Args& args) -> absl::StatusOr<int> {
              return ForEachId(session, args, [&](const std::string& id) -> absl::Status {
                BERTH_RETURN_IF_ERROR(StartContainer(session, id));
                std::cout << id << "\n";
                return absl::OkStatus();
              });
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "ps",
      .args = "",
      .summary = "List containers",
      .details = "Lists running containers, newest first; -a adds created and exited ones.\n"
                 "Filters combine: a container is shown when it matches all of them.\n",
      .min_args = 0,
      .max_args = 0,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<PsOptions>();
            flags.AddBool("all", 'a', &options->all, "show containers in every state");
            flags.AddString("id", 0, &options->id, "ID", "show only the container with this id");
            flags.AddString("pod", 'p', &options->pod, "POD-ID",
                            "show only containers of this pod");
            flags.AddString("state", 's', &options->state, "STATE",
                            "show only containers in this state: created, running, exited or "
                            "unknown");
            flags.AddString("name", 0, &options->name, "REGEXP",
                            "show only containers whose name matches");
            flags.AddString("image", 0, &options->image, "IMAGE",
                            "show only containers of this image (reference or id)");
            flags.AddStringList("label", 0, &options->labels, "KEY=VALUE",
                                "show only containers with this label (repeatable)");
            flags.AddBool("quiet", 'q', &options->quiet, "print only container ids");
            flags.AddBool("no-trunc", 0, &options->no_trunc, "show ids in full");
            flags.AddBool("latest", 'l', &options->latest, "show only the newest container");
            flags.AddInt("last", 'n', &options->last, "N", "show only the N newest containers");
            AddOutputFlag(flags, &options->output, /*allow_table=*/true);
            return Action([options](Session& session, const Args&) {
              return RunPs(session, *options);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "inspect",
      .args = "ID [ID...]",
      .summary = "Show the full status of containers",
      .details = "Prints the status of each container (CRI ContainerStatus, verbose), with the\n"
                 "details the runtime adds under \"info\". An id prefix is enough.\n",
      .min_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto output = std::make_shared<std::string>("json");
            AddOutputFlag(flags, output.get(), /*allow_table=*/false);
            return Action([output](Session& session, const Args& args) {
              return RunInspect(session, *output, args);
            });
          },
  });

  group.verbs.push_back(LogsVerb());
  group.verbs.push_back(ExecVerb());

  group.verbs.push_back(Verb{
      .name = "stop",
      .args = "ID [ID...]",
      .summary = "Stop running containers",
      .details = "Sends each container its stop signal, waits --timeout seconds, then kills it.\n"
                 "Stopping a stopped container succeeds.\n",
      .min_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto grace = std::make_shared<int64_t>(0);
            flags.AddInt("timeout", 't', grace.get(), "SECONDS",
                         "seconds to wait after the stop signal before killing (default: 0)");
            return Action([grace](Session& session, const Args& args) -> absl::StatusOr<int> {
              if (*grace < 0) return absl::InvalidArgumentError("--timeout must not be negative");
              return ForEachId(session, args, [&](const std::string& id) -> absl::Status {
                BERTH_RETURN_IF_ERROR(StopContainer(session, id, *grace));
                std::cout << id << "\n";
                return absl::OkStatus();
              });
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "rm",
      .args = "ID [ID...]",
      .summary = "Remove containers",
      .details = "Removes each container. A running container is refused unless --force is\n"
                 "given, which kills it first.\n",
      .min_args = 0,
      .setup =
          [](FlagSet& flags) {
            auto force = std::make_shared<bool>(false);
            auto all = std::make_shared<bool>(false);
            flags.AddBool("force", 'f', force.get(), "kill running containers first");
            flags.AddBool("all", 'a', all.get(), "remove every container");
            return Action([force, all](Session& session, const Args& args) {
              return RunRm(session, *force, *all, args);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "run",
      .args = "CONTAINER-CONFIG POD-CONFIG",
      .summary = "Run a container in a new pod sandbox",
      .details = "Does runp, create and start in one go and prints the container id. The image\n"
                 "is pulled first when the runtime does not have it. When a step fails, the\n"
                 "new pod is removed again.\n",
      .min_args = 2,
      .max_args = 2,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<RunOptions>();
            flags.AddString("runtime", 'r', &options->handler, "HANDLER",
                            "runtime handler to run the pod with (default: the runtime's)");
            flags.AddBool("with-pull", 0, &options->with_pull,
                          "pull the image even when it is present");
            flags.AddBool("no-pull", 0, &options->no_pull, "never pull the image");
            AddAuthFlags(flags, &options->auth);
            return Action([options](Session& session, const Args& args) {
              return RunRun(session, *options, args);
            });
          },
  });
  return group;
}

absl::StatusOr<runtime::v1::ContainerStatus> GetContainerStatus(Session& session,
                                                                const std::string& id) {
  absl::StatusOr<runtime::v1::ContainerStatusResponse> response =
      ContainerStatus(session, id, /*verbose=*/false);
  if (!response.ok()) return response.status();
  return response->status();
}

}  // namespace berth::ctl
