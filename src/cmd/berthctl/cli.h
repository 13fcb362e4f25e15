// The berthctl command line: global flags, verb dispatch and help. Its verbs and flags follow
// crictl's, and it talks CRI runtime.v1 to berthd over a unix socket.
#pragma once

#include <string>
#include <vector>

namespace berth::ctl {

// Runs berthctl with `args` (the arguments after the program name), printing results on stdout
// and errors on stderr, and returns the process exit status: 0 on success, 1 on any error, or
// the command's status for exec --sync.
int RunCli(const std::vector<std::string>& args);

}  // namespace berth::ctl
