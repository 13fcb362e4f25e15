// The parts of a berthctl verb, and helpers shared by several verbs.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmd/berthctl/client.h"
#include "cmd/berthctl/flags.h"
#include "runtime/v1/api.pb.h"

namespace berth::ctl {

// State of one berthctl run: the global options, the verb being run and its connection.
class Session {
 public:
  Session(GlobalOptions options, std::string verb)
      : options_(std::move(options)), verb_(std::move(verb)) {}

  const GlobalOptions& options() const { return options_; }
  const std::string& verb() const { return verb_; }

  // The connection to the endpoint, made on first use.
  Client& client();

  // Prints "berthctl: <verb>: <CODE>: <message>" on stderr.
  void PrintError(const absl::Status& status) const;

 private:
  GlobalOptions options_;
  std::string verb_;
  std::unique_ptr<Client> client_;
};

using Args = std::vector<std::string>;

// Runs a verb once its flags are parsed. Returns the process exit code, or an error that the
// caller prints before exiting with 1.
using Action = std::function<absl::StatusOr<int>(Session& session, const Args& args)>;

inline constexpr size_t kAnyCount = std::numeric_limits<size_t>::max();

struct Verb {
  std::string name;
  // The positional arguments in usage text, e.g. "ID [ID...]".
  std::string args;
  // One line for the verb list of `berthctl --help`.
  std::string summary;
  // Paragraphs for `berthctl VERB --help`, each line ending with a newline.
  std::string details;
  size_t min_args = 0;
  size_t max_args = kAnyCount;
  // Flags are read only before the first positional argument (for exec's command line).
  bool flags_end_at_first_arg = false;
  // Declares the verb's flags, bound to state that the returned action keeps.
  std::function<Action(FlagSet& flags)> setup;
  // Other names that select the verb.
  std::vector<std::string> aliases = {};
};

// A titled group of verbs for help output.
struct VerbGroup {
  std::string title;
  std::vector<Verb> verbs;
};

VerbGroup RuntimeVerbs();    // version, info
VerbGroup ImageVerbs();      // pull, images, images import, inspecti, rmi
VerbGroup PodVerbs();        // runp, pods, inspectp, stopp, rmp
VerbGroup ContainerVerbs();  // create, start, ps, inspect, logs, exec, stop, rm, run
Verb LogsVerb();
Verb ExecVerb();

// Runs `step` for each id in turn. A failure is printed and does not stop the others. Returns
// the exit code: 0 when every step succeeded, else 1.
int ForEachId(Session& session, const Args& ids,
              const std::function<absl::Status(const std::string& id)>& step);

// Registry credentials given on the command line, for pull, create and run.
struct AuthFlags {
  // USERNAME:PASSWORD.
  std::string creds;
  // base64 of USERNAME:PASSWORD.
  std::string auth;
};

// Adds --creds and --auth.
void AddAuthFlags(FlagSet& flags, AuthFlags* auth);

// The CRI AuthConfig of --creds and --auth; InvalidArgument when they are malformed.
absl::StatusOr<runtime::v1::AuthConfig> MakeAuthConfig(const AuthFlags& flags);

// Pulls `image` through Berth's admin service and returns the image id. Unless `quiet`, shows
// the progress on stdout while it waits (see pull_progress.h). Unimplemented when the endpoint
// has no admin service (another CRI runtime), so the caller can pull through CRI instead.
absl::StatusOr<std::string> PullWithProgress(Session& session, const std::string& image,
                                             const AuthFlags& auth, bool quiet);

// `images import FILE`: loads an OCI or docker save archive through the admin service.
Verb ImportVerb();

// Pulls `image` and returns the reference the runtime resolved it to. `sandbox` is the config of
// the pod the image is for, or null.
absl::StatusOr<std::string> PullImage(Session& session, const std::string& image,
                                      const AuthFlags& auth,
                                      const runtime::v1::PodSandboxConfig* sandbox);

// Returns whether the runtime has `image` (CRI ImageStatus returns an empty image when absent).
absl::StatusOr<bool> HasImage(Session& session, const std::string& image);

// Pod steps shared by runp, rmp and run: RunPod creates a pod sandbox and returns its id,
// StopPod stops one and RemovePod removes one.
absl::StatusOr<std::string> RunPod(Session& session, const runtime::v1::PodSandboxConfig& config,
                                   const std::string& handler);
absl::Status StopPod(Session& session, const std::string& id);
absl::Status RemovePod(Session& session, const std::string& id);

// The status of one container (CRI ContainerStatus, not verbose).
absl::StatusOr<runtime::v1::ContainerStatus> GetContainerStatus(Session& session,
                                                                const std::string& id);

// Adds the -o/--output flag with the formats it accepts and its default.
void AddOutputFlag(FlagSet& flags, std::string* value, bool allow_table);

}  // namespace berth::ctl
