#include "cmd/berthd/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "base/status.h"

namespace berth::berthd {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

absl::Status BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  if (int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    return ErrnoError(err, "pthread_sigmask", "SIGTERM SIGINT");
  }
  if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) return ErrnoError(errno, "signal", "SIGPIPE");
  return absl::OkStatus();
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int received = 0;
  // sigwait fails only for an invalid set; treat that as a request to stop.
  if (sigwait(&set, &received) != 0) return SIGTERM;
  return received;
}

}  // namespace berth::berthd
