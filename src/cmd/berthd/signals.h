// Termination signals for berthd. The main thread blocks SIGTERM and SIGINT before any other
// thread exists (every thread inherits the mask), then waits for one of them synchronously, so
// no signal handler ever runs inside gRPC or domain code.
#pragma once

#include "absl/status/status.h"

namespace berth::berthd {

// Blocks SIGTERM and SIGINT in the calling thread and ignores SIGPIPE (a client that hangs up
// must not kill the daemon). Call first in main().
absl::Status BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives and returns its number.
int WaitForTerminationSignal();

}  // namespace berth::berthd
