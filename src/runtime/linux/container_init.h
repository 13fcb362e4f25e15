// The setup a container process runs on itself, inside its new namespaces, between clone and
// execve. Internal to the launcher.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/linux/capabilities.h"
#include "runtime/linux/cgroups.h"
#include "runtime/linux/confinement.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct InitArgs {
  const Spec* spec = nullptr;
  std::optional<Mount> rootfs_mount;
  std::vector<CgroupDir> cgroup_dirs;
  CapabilitySets capabilities;
  const Confinement* confinement = nullptr;  // seccomp and AppArmor; may be null
  bool new_uts = false;
  // User namespaces: the launch helper already mounted the root and made it the working
  // directory, and made the bind sources detached trees (see RootfsOptions::bind_trees).
  bool root_mounted = false;
  std::map<size_t, int> bind_trees;
  std::string setup_note;     // a warning from the helper, sent once the channel is the child's
  int sync_fd = -1;   // messages to the launcher; close-on-exec
  int start_fd = -1;  // read end of the start pipe
};

// Builds the file system, pivots, applies hostname, sysctls, rlimits, cwd, user, capabilities and
// no_new_privs, reports ready, waits for the start byte and runs the program. Never returns: on
// any failure the error goes to the sync channel and the process exits.
[[noreturn]] void RunContainerInit(const InitArgs& args);

}  // namespace berth::runtime
