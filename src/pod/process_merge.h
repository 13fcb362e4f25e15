// The merge of an image's defaults and a CRI container config into the container's process,
// by the kubelet's rules. CRI `command` replaces the image Entrypoint and CRI `args` replaces
// the image Cmd. CRI envs override image Env entries of the same name.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::pod {

// Returns the argv of the container. When `command` is not empty, the image's entrypoint and
// cmd are both ignored, and `args` follows `command`. When only `args` is given, it follows the
// image's entrypoint. With neither, entrypoint then cmd. An empty result is InvalidArgument.
absl::StatusOr<std::vector<std::string>> MergeArgs(const std::vector<std::string>& image_entrypoint,
                                                   const std::vector<std::string>& image_cmd,
                                                   const std::vector<std::string>& command,
                                                   const std::vector<std::string>& args);

// Returns the image's "KEY=value" entries with each CRI env applied in order: a key already
// present gets its value replaced in place, a new key is appended.
std::vector<std::string> MergeEnv(const std::vector<std::string>& image_env,
                                  const std::vector<std::pair<std::string, std::string>>& cri_envs);

// Returns the working directory: the CRI one when set, else the image's, else "/".
std::string MergeWorkingDir(const std::string& image_dir, const std::string& cri_dir);

}  // namespace berth::pod
