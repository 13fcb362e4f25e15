#include "cmd/berthctl/cli.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cmd/berthctl/endpoint.h"
#include "cmd/berthctl/flags.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {
namespace {

std::vector<VerbGroup> AllVerbs() {
  return {RuntimeVerbs(), ImageVerbs(), PodVerbs(), ContainerVerbs()};
}

const Verb* FindVerb(const std::vector<VerbGroup>& groups, const std::string& name) {
  for (const VerbGroup& group : groups) {
    for (const Verb& verb : group.verbs) {
      if (verb.name == name) return &verb;
      for (const std::string& alias : verb.aliases) {
        if (alias == name) return &verb;
      }
    }
  }
  return nullptr;
}

struct GlobalFlags {
  std::string endpoint;
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(30)};
  bool debug = false;
};

void AddGlobalFlags(FlagSet& flags, GlobalFlags* global) {
  flags.AddString("runtime-endpoint", 'r', &global->endpoint, "ENDPOINT",
                  absl::StrCat("CRI socket to talk to: unix:///path or a path (default: "
                               "$BERTH_ENDPOINT, else $CONTAINER_RUNTIME_ENDPOINT, else ",
                               kDefaultEndpoint, ")"));
  flags.AddDuration("timeout", 't', &global->timeout,
                    "deadline of requests that read state, e.g. 2s or 1m; requests that change "
                    "state get 2m more; 0 means none (default: 2s)");
  flags.AddDuration("pull-timeout", 0, &global->pull_timeout,
                    "deadline of image pulls; 0 means none (default: 30m)");
  flags.AddBool("debug", 'D', &global->debug, "print each request and response on stderr");
}

void PrintMainHelp(const std::vector<VerbGroup>& groups, const FlagSet& global_flags) {
  std::cout << "berthctl: the command-line client of the Berth container runtime.\n"
               "Its verbs and flags follow crictl's; it reads crictl's pod and container\n"
               "config files (JSON or YAML).\n\n"
               "Usage: berthctl [GLOBAL FLAGS] VERB [FLAGS] [ARGS]\n";
  size_t width = 0;
  for (const VerbGroup& group : groups) {
    for (const Verb& verb : group.verbs) width = std::max(width, verb.name.size());
  }
  for (const VerbGroup& group : groups) {
    std::cout << "\n" << group.title << ":\n";
    for (const Verb& verb : group.verbs) {
      std::cout << "  " << verb.name << std::string(width - verb.name.size() + 3, ' ')
                << verb.summary << "\n";
    }
  }
  std::cout << "\nGlobal flags (before the verb):\n"
            << global_flags.Usage()
            << "\nRun 'berthctl VERB --help' for the flags and arguments of a verb.\n"
               "Exit status: 0 on success, 1 on any error (exec --sync exits with the\n"
               "command's status).\n";
}

void PrintVerbHelp(const Verb& verb, const FlagSet& flags) {
  std::cout << "Usage: berthctl [GLOBAL FLAGS] " << verb.name << " [FLAGS]"
            << (verb.args.empty() ? "" : " ") << verb.args << "\n\n"
            << verb.summary << ".\n\n"
            << verb.details;
  if (!verb.aliases.empty()) {
    std::cout << "Also called:";
    for (const std::string& alias : verb.aliases) std::cout << " " << alias;
    std::cout << "\n";
  }
  std::cout << "\nFlags:\n" << flags.Usage();
}

int UsageError(const std::string& where, const absl::Status& status, const std::string& help) {
  std::cerr << "berthctl: " << where << status.message() << "\n"
            << "Run '" << help << " --help' for usage." << std::endl;
  return 1;
}

// Maps a command's exit status onto a process exit status without turning a failure into 0.
int ExitStatus(int code) {
  if (code >= 0 && code <= 255) return code;
  return (code & 0xff) != 0 ? code & 0xff : 1;
}

}  // namespace

int RunCli(const std::vector<std::string>& args) {
  const std::vector<VerbGroup> groups = AllVerbs();

  // Global flags come before the verb.
  GlobalFlags global;
  FlagSet global_flags;
  AddGlobalFlags(global_flags, &global);
  global_flags.set_stop_at_first_positional(true);
  absl::StatusOr<std::vector<std::string>> rest = global_flags.Parse(args);
  if (!rest.ok()) return UsageError("", rest.status(), "berthctl");
  if (global_flags.help_requested() || rest->empty()) {
    PrintMainHelp(groups, global_flags);
    return rest->empty() && !global_flags.help_requested() ? 1 : 0;
  }

  // `berthctl help [VERB]` is another way to ask for help.
  std::string verb_name = rest->front();
  std::vector<std::string> verb_args(rest->begin() + 1, rest->end());
  if (verb_name == "help") {
    if (verb_args.empty()) {
      PrintMainHelp(groups, global_flags);
      return 0;
    }
    verb_name = verb_args.front();
    verb_args = {"--help"};
  }
  // `images import` is a verb of two words; `images IMAGE` lists images.
  if ((verb_name == "images" || verb_name == "image" || verb_name == "img") &&
      !verb_args.empty() && verb_args.front() == "import") {
    verb_name = "images import";
    verb_args.erase(verb_args.begin());
  }
  const Verb* verb = FindVerb(groups, verb_name);
  if (verb == nullptr) {
    return UsageError("", absl::InvalidArgumentError(absl::StrCat("unknown verb \"", verb_name,
                                                                  "\"")),
                      "berthctl");
  }

  FlagSet flags;
  const Action action = verb->setup(flags);
  flags.set_stop_at_first_positional(verb->flags_end_at_first_arg);
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(verb_args);
  const std::string verb_help = absl::StrCat("berthctl ", verb->name);
  if (!positional.ok()) return UsageError(verb->name + ": ", positional.status(), verb_help);
  if (flags.help_requested()) {
    PrintVerbHelp(*verb, flags);
    return 0;
  }
  if (positional->size() < verb->min_args || positional->size() > verb->max_args) {
    const std::string expected = verb->args.empty() ? "no arguments" : verb->args;
    return UsageError(verb->name + ": ",
                      absl::InvalidArgumentError(absl::StrCat("expected ", expected, ", got ",
                                                              positional->size(), " argument(s)")),
                      verb_help);
  }

  absl::StatusOr<std::string> endpoint = NormalizeEndpoint(ChooseEndpoint(
      global.endpoint, std::getenv("BERTH_ENDPOINT"), std::getenv("CONTAINER_RUNTIME_ENDPOINT")));
  if (!endpoint.ok()) return UsageError("", endpoint.status(), "berthctl");

  Session session(GlobalOptions{*endpoint, global.timeout, global.pull_timeout, global.debug},
                  verb->name);
  absl::StatusOr<int> result = action(session, *positional);
  if (!result.ok()) {
    session.PrintError(result.status());
    return 1;
  }
  return ExitStatus(*result);
}

}  // namespace berth::ctl
