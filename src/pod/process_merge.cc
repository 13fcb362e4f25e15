#include "pod/process_merge.h"

#include "absl/status/status.h"

namespace berth::pod {

absl::StatusOr<std::vector<std::string>> MergeArgs(const std::vector<std::string>& image_entrypoint,
                                                   const std::vector<std::string>& image_cmd,
                                                   const std::vector<std::string>& command,
                                                   const std::vector<std::string>& args) {
  std::vector<std::string> result;
  if (!command.empty()) {
    result = command;
    result.insert(result.end(), args.begin(), args.end());
  } else {
    result = image_entrypoint;
    const std::vector<std::string>& tail = args.empty() ? image_cmd : args;
    result.insert(result.end(), tail.begin(), tail.end());
  }
  if (result.empty()) {
    return absl::InvalidArgumentError(
        "no command specified: the container config has no command or args and the image has "
        "no Entrypoint or Cmd");
  }
  return result;
}

std::vector<std::string> MergeEnv(const std::vector<std::string>& image_env,
                                  const std::vector<std::pair<std::string, std::string>>& cri_envs) {
  std::vector<std::string> result = image_env;
  for (const auto& [key, value] : cri_envs) {
    std::string entry = key + "=" + value;
    bool replaced = false;
    for (std::string& existing : result) {
      if (existing.compare(0, key.size() + 1, key + "=") == 0) {
        existing = entry;
        replaced = true;
        break;
      }
    }
    if (!replaced) result.push_back(std::move(entry));
  }
  return result;
}

std::string MergeWorkingDir(const std::string& image_dir, const std::string& cri_dir) {
  if (!cri_dir.empty()) return cri_dir;
  if (!image_dir.empty()) return image_dir;
  return "/";
}

}  // namespace berth::pod
