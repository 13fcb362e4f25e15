#include "base/json_file.h"

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"

namespace berth {

absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON in ", std::string(what), ": ", e.what()));
  }
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJson(text, path);
}

absl::Status WriteJsonFileAtomic(const std::string& path, const nlohmann::json& value,
                                 mode_t mode) {
  std::string text;
  try {
    text = value.dump();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serialise ", path, ": ", e.what()));
  }
  return WriteFileAtomic(path, text, mode);
}

}  // namespace berth
