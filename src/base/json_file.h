// JSON records on disk: parsed with nlohmann::json, written atomically (see WriteFileAtomic).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

// Reads and parses a JSON file. A missing file is NotFound; bad JSON is InvalidArgument with
// the path and the parser's message.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

// Parses JSON text; `what` names the input in the error message (a path, "manifest", ...).
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what);

// Serialises `value` and writes it with WriteFileAtomic.
absl::Status WriteJsonFileAtomic(const std::string& path, const nlohmann::json& value,
                                 mode_t mode = 0644);

}  // namespace berth
