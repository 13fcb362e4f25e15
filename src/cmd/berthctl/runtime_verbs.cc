// Verbs about the runtime as a whole: version and info.
#include <iostream>

#include "cmd/berthctl/json_output.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {
namespace {

using runtime::v1::RuntimeService;

// The CRI version berthctl speaks, sent with Version requests.
constexpr char kCriVersion[] = "v1";

absl::StatusOr<int> RunVersion(Session& session, const std::string& output) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(output, /*allow_table=*/true);
  if (!format.ok()) return format.status();

  runtime::v1::VersionRequest request;
  request.set_version(kCriVersion);
  absl::StatusOr<runtime::v1::VersionResponse> response = session.client().Call(
      &RuntimeService::Stub::Version, request, session.client().ReadTimeout());
  if (!response.ok()) return response.status();

  if (*format != OutputFormat::kTable) {
    absl::StatusOr<nlohmann::ordered_json> tree = MessageToJsonTree(*response);
    if (!tree.ok()) return tree.status();
    std::cout << RenderTree(*tree, *format);
    return 0;
  }
  std::cout << "Version:  " << response->version() << "\n"
            << "RuntimeName:  " << response->runtime_name() << "\n"
            << "RuntimeVersion:  " << response->runtime_version() << "\n"
            << "RuntimeApiVersion:  " << response->runtime_api_version() << "\n";
  return 0;
}

absl::StatusOr<int> RunInfo(Session& session, const std::string& output) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(output, /*allow_table=*/false);
  if (!format.ok()) return format.status();

  runtime::v1::StatusRequest request;
  request.set_verbose(true);
  absl::StatusOr<runtime::v1::StatusResponse> response = session.client().Call(
      &RuntimeService::Stub::Status, request, session.client().ReadTimeout());
  if (!response.ok()) return response.status();

  // The response without its info map, then each info entry as a key of its own beside
  // "status", which is the layout crictl prints.
  runtime::v1::StatusResponse without_info = *response;
  without_info.clear_info();
  absl::StatusOr<nlohmann::ordered_json> tree = MessageToJsonTree(without_info);
  if (!tree.ok()) return tree.status();
  tree->erase("info");
  const nlohmann::ordered_json info = InfoToJson(response->info());
  for (const auto& [key, value] : info.items()) (*tree)[key] = value;
  std::cout << RenderTree(*tree, *format);
  return 0;
}

}  // namespace

VerbGroup RuntimeVerbs() {
  VerbGroup group{"Runtime", {}};

  group.verbs.push_back(Verb{
      .name = "version",
      .args = "",
      .summary = "Show the runtime's name and version and the CRI version it speaks",
      .details = "Asks the runtime for its version (CRI Version).\n",
      .min_args = 0,
      .max_args = 0,
      .setup =
          [](FlagSet& flags) {
            auto output = std::make_shared<std::string>("table");
            flags.AddString("output", 'o', output.get(), "FORMAT",
                            "output format: table, json or yaml (default: table)");
            return Action([output](Session& session, const Args&) {
              return RunVersion(session, *output);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "info",
      .args = "",
      .summary = "Show the runtime's conditions and configuration",
      .details = "Prints the runtime status (CRI Status, verbose): its conditions such as\n"
                 "RuntimeReady and NetworkReady, its handlers and features, and the details\n"
                 "the runtime adds, each under a key of its own.\n",
      .min_args = 0,
      .max_args = 0,
      .setup =
          [](FlagSet& flags) {
            auto output = std::make_shared<std::string>("json");
            AddOutputFlag(flags, output.get(), /*allow_table=*/false);
            return Action([output](Session& session, const Args&) {
              return RunInfo(session, *output);
            });
          },
  });
  return group;
}

}  // namespace berth::ctl
