// Signal names as images give them in their StopSignal ("SIGTERM", "TERM", "15").
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace berth::pod {

// Returns the number of a signal given by name (with or without the "SIG" prefix, any case)
// or by number. An unknown name or an out-of-range number is InvalidArgument naming it.
absl::StatusOr<int> ParseSignal(const std::string& text);

}  // namespace berth::pod
