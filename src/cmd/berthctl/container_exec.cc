// The exec verb: runs a command in a container. Only the synchronous form (CRI ExecSync) is
// available, because interactive exec needs the streaming server.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {
namespace {

using runtime::v1::RuntimeService;

struct ExecOptions {
  bool sync = false;
  int64_t timeout_seconds = 0;
  bool interactive = false;
  bool tty = false;
};

absl::StatusOr<int> RunExec(Session& session, const ExecOptions& options, const Args& args) {
  if (!options.sync) {
    // TODO: streaming exec (CRI Exec and the streaming server's URL) for -i and -t.
    return absl::UnimplementedError(
        "interactive exec is not available yet; use --sync (-s) to run the command and print "
        "its output when it ends");
  }
  if (options.interactive || options.tty) {
    return absl::InvalidArgumentError("--sync cannot pass stdin or a terminal (-i, -t)");
  }
  if (options.timeout_seconds < 0) {
    return absl::InvalidArgumentError("--timeout must not be negative");
  }

  runtime::v1::ExecSyncRequest request;
  request.set_container_id(args[0]);
  for (size_t i = 1; i < args.size(); ++i) request.add_cmd(args[i]);
  request.set_timeout(options.timeout_seconds);

  // Without a --timeout the command may run as long as it needs, so the request has no
  // deadline either.
  const Timeout timeout =
      options.timeout_seconds > 0
          ? session.client().ChangeTimeout(std::chrono::seconds(options.timeout_seconds))
          : std::nullopt;
  absl::StatusOr<runtime::v1::ExecSyncResponse> response =
      session.client().Call(&RuntimeService::Stub::ExecSync, request, timeout);
  if (!response.ok()) return response.status();

  std::cout << response->stdout() << std::flush;
  std::cerr << response->stderr() << std::flush;
  return response->exit_code();
}

}  // namespace

Verb ExecVerb() {
  return Verb{
      .name = "exec",
      .args = "ID COMMAND [ARG...]",
      .summary = "Run a command in a running container",
      .details = "Runs COMMAND in the container and, with --sync, prints its stdout and stderr\n"
                 "when it ends and exits with its exit code. Flags go before ID; everything\n"
                 "after ID belongs to the command. Interactive exec (-i, -t) is not available\n"
                 "yet.\n",
      .min_args = 2,
      .flags_end_at_first_arg = true,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<ExecOptions>();
            flags.AddBool("sync", 's', &options->sync,
                          "run the command to its end, then print its output (CRI ExecSync)");
            flags.AddInt("timeout", 0, &options->timeout_seconds, "SECONDS",
                         "kill the command after this many seconds (default: 0, no limit)");
            flags.AddBool("interactive", 'i', &options->interactive,
                          "pass stdin to the command (not available yet)");
            flags.AddBool("tty", 't', &options->tty,
                          "give the command a terminal (not available yet)");
            return Action([options](Session& session, const Args& args) {
              return RunExec(session, *options, args);
            });
          },
  };
}

}  // namespace berth::ctl
