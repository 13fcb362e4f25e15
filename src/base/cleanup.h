// A stack of undo steps for multi-step operations. Each step that allocates something (a mount,
// a namespace, a cgroup, a process) pushes its undo; on success the caller calls Disarm(). When
// the stack is destroyed while still armed, the undo steps run newest first, and a failing undo
// is logged with its name and does not stop the others.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace berth {

class CleanupStack {
 public:
  CleanupStack() = default;
  CleanupStack(const CleanupStack&) = delete;
  CleanupStack& operator=(const CleanupStack&) = delete;
  ~CleanupStack() { RunNow(); }

  // Pushes an undo step; `name` appears in the log when it fails, e.g. "unmount /x/rootfs".
  void Push(std::string name, std::function<absl::Status()> undo) {
    steps_.emplace_back(std::move(name), std::move(undo));
  }

  // Forgets every undo step: the operation succeeded and keeps what it made.
  void Disarm() { steps_.clear(); }

  // Runs every undo step now, newest first, and empties the stack.
  void RunNow();

 private:
  std::vector<std::pair<std::string, std::function<absl::Status()>>> steps_;
};

}  // namespace berth
