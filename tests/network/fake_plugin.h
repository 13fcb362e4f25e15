// Fake CNI plugins for unit tests: small shell scripts that log each call (command, container,
// netns, interface, CNI_ARGS, CNI_PATH) to <dir>/calls.log, save their stdin to
// <dir>/<name>.<COMMAND>.stdin and then print `stdout` and exit with `exit_code`.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"

namespace berth::network {

inline void WriteFakePlugin(const std::string& dir, const std::string& name,
                            const std::string& stdout_text, int exit_code = 0,
                            const std::string& extra_shell = "") {
  std::string script = absl::StrCat(
      "#!/bin/sh\n"
      "input=$(cat)\n"
      "d=$(dirname \"$0\")\n"
      "echo \"$CNI_COMMAND ", name,
      " $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME $CNI_ARGS $CNI_PATH\" >> \"$d/calls.log\"\n"
      "printf '%s' \"$input\" > \"$d/", name, ".$CNI_COMMAND.stdin\"\n",
      extra_shell,
      "cat <<'BERTH_EOF'\n", stdout_text, "\nBERTH_EOF\n"
      "exit ", exit_code, "\n");
  std::string path = JoinPath(dir, name);
  (void)WriteFile(path, script, 0755);
  ::chmod(path.c_str(), 0755);
}

// The lines of <dir>/calls.log.
inline std::vector<std::string> FakeCalls(const std::string& dir) {
  auto text = ReadFile(JoinPath(dir, "calls.log"));
  if (!text.ok()) return {};
  return absl::StrSplit(*text, '\n', absl::SkipEmpty());
}

}  // namespace berth::network
