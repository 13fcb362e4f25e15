// What `berthctl pull` shows while it waits: one line per blob with its bytes, and a total line
// with the bytes of every blob, the download rate and the time so far.
//
// On a terminal the block of lines is redrawn in place (at most every 100 ms). Anywhere else
// the display prints plain lines a script can read: one when a blob finishes and a total line
// at most once a second, so a log stays short.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "berth/admin/v1/admin.pb.h"

namespace berth::ctl {

// "0 B", "512 B", "1.5 KiB", "12.3 MiB", "1.02 GiB".
std::string FormatBytes(uint64_t bytes);

// "sha256:0123456789ab" (the first 12 hex digits); other text unchanged.
std::string ShortDigest(const std::string& digest);

class PullDisplay {
 public:
  // `now` returns nanoseconds on a monotonic clock; tests pass their own.
  PullDisplay(std::ostream& out, bool terminal, std::function<int64_t()> now);

  // Takes one message of the admin service's pull stream.
  void Update(const admin::v1::PullProgress& message);

  // Draws the final state (terminal) or prints the final total line (plain).
  void Finish();

 private:
  struct Blob {
    std::string digest;
    std::string kind;
    uint64_t downloaded = 0;
    uint64_t total = 0;
    bool done = false;
    bool reused = false;
  };

  std::string BlobLine(const Blob& blob) const;
  std::string TotalLine() const;
  void Redraw();

  std::ostream& out_;
  bool terminal_;
  std::function<int64_t()> now_;
  int64_t started_;
  int64_t last_draw_ = 0;
  int64_t last_total_line_ = 0;
  size_t drawn_lines_ = 0;
  std::vector<std::string> order_;  // digests, in the order they first appeared
  std::map<std::string, Blob> blobs_;
};

}  // namespace berth::ctl
