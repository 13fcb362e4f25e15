// The long-lived part of berth-shim: after the container process was created, it serves the
// control socket, copies the container's stdout and stderr into the CRI log, reaps, and records
// the exit before it leaves. Single-threaded: one poll loop.
#pragma once

#include <memory>
#include <string>

#include "base/fd.h"
#include "runtime/container_state.h"
#include "runtime/linux/launcher.h"
#include "runtime/shim/cri_log.h"
#include "runtime/shim/shim_files.h"

namespace berth::runtime {

struct ShimServerArgs {
  ShimPaths paths;
  ContainerState state;  // status created, pid and created_at set
  std::unique_ptr<CreatedContainer> container;
  UniqueFd listener;     // the control socket, listening
  UniqueFd stdout_read;  // read ends of the container's output pipes
  UniqueFd stderr_read;
  UniqueFd signal_fd;  // signalfd for SIGCHLD (blocked in the shim)
  std::string log_path;
};

// Runs until the container has exited and its output is drained (at most a few seconds after the
// exit when other processes still hold the pipes). Writes exit.json and state.json, responds to the
// waiting clients, removes the socket and returns the shim's exit code.
int RunShimServer(ShimServerArgs args);

}  // namespace berth::runtime
