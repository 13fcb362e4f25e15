// The shared per-test temporary directory, under this module's namespace.
#pragma once

#include "support/temp_dir.h"

namespace berth::network {

using test_support::TempDir;

}  // namespace berth::network
