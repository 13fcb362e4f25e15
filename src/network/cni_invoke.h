// Running one CNI plugin binary as the CNI specification describes: the command and the
// container in environment variables, the network configuration as JSON on stdin, the result or
// an error object as JSON on stdout.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::network {

// The environment of one plugin call.
struct CniCall {
  std::string command;       // CNI_COMMAND: ADD, DEL or CHECK
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS: path of the pinned namespace; may be empty for DEL
  std::string ifname;        // CNI_IFNAME, e.g. "eth0"
  std::string args;          // CNI_ARGS: "KEY=value;KEY=value"
  std::vector<std::string> bin_dirs;  // CNI_PATH, and where the plugin binary is looked up
  absl::Duration timeout = absl::Seconds(60);  // the plugin is killed after this long
};

// Returns the path of the executable named `type` in the first of `bin_dirs` that has one.
// None is NotFound naming the type and the folders.
absl::StatusOr<std::string> FindCniPlugin(const std::string& type,
                                          const std::vector<std::string>& bin_dirs);

// Runs plugin `type` with `config` on stdin and returns what it printed on stdout, parsed (null
// when it printed nothing, as DEL and CHECK may). The plugin runs in its own process group with
// berthd's environment plus the CNI variables, and the whole group is killed when `call.timeout`
// passes (DeadlineExceeded). A plugin that exits non-zero gives Unavailable with the "msg",
// "details" and "code" of its error object, or its raw output, and the end of its stderr.
absl::StatusOr<nlohmann::json> InvokeCniPlugin(const std::string& type,
                                               const nlohmann::json& config, const CniCall& call);

}  // namespace berth::network
