// The shared per-test temporary directory, under this module's namespace.
#pragma once

#include "support/temp_dir.h"

namespace berth::image {

using test_support::TempDir;

}  // namespace berth::image
