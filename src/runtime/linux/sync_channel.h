// The channel between the launcher and the process it is setting up (a container init or an
// exec'd process). It carries one JSON object per line over a socketpair, so a failure in the
// child reaches the parent with its step, path and errno text.
//
// Child to parent: {"pid": N} (the container process exists), {"warning": "..."},
// {"ready": true} (set up and blocked before execve), {"error": "...", "code": N}.
// End of file after "ready" means execve succeeded, because the child's end is close-on-exec.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::runtime {

// Writers, used in the child. They ignore write errors, because a parent that went away cannot
// be informed.
void SendPid(int fd, pid_t pid);
void SendWarning(int fd, const std::string& text);
void SendReady(int fd);
void SendError(int fd, const absl::Status& status);

struct SyncMessage {
  enum class Kind { kPid, kWarning, kReady, kError, kEndOfFile };
  Kind kind = Kind::kEndOfFile;
  pid_t pid = 0;
  std::string warning;
  absl::Status error;
};

// Reads messages in the parent, buffering partial lines.
class SyncReader {
 public:
  explicit SyncReader(int fd) : fd_(fd) {}

  // Returns the next message, or DeadlineExceeded when none arrives before `deadline`.
  absl::StatusOr<SyncMessage> Next(absl::Time deadline);

 private:
  int fd_;
  std::string buffer_;
};

}  // namespace berth::runtime
