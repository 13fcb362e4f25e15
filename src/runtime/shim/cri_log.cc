#include "runtime/shim/cri_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/status.h"

namespace berth::runtime {

std::string FormatCriLogLine(int64_t nanos, LogStream stream, bool partial,
                             const std::string& content) {
  return absl::StrCat(FormatRfc3339Nano(nanos),
                      stream == LogStream::kStdout ? " stdout " : " stderr ", partial ? "P " : "F ",
                      content, "\n");
}

void CriLineSplitter::Feed(const char* data, size_t size, int64_t nanos) {
  pending_.append(data, size);
  size_t start = 0;
  while (true) {
    size_t newline = pending_.find('\n', start);
    size_t limit = start + max_line_size_;
    if (newline != std::string::npos && newline <= limit) {
      // A line of exactly the maximum size still ends with its own newline: a full line.
      sink_(FormatCriLogLine(nanos, stream_, false, pending_.substr(start, newline - start)));
      start = newline + 1;
      continue;
    }
    if (pending_.size() - start > max_line_size_) {
      sink_(FormatCriLogLine(nanos, stream_, true, pending_.substr(start, max_line_size_)));
      start = limit;
      continue;
    }
    break;
  }
  pending_.erase(0, start);
}

void CriLineSplitter::Finish(int64_t nanos) {
  if (pending_.empty()) return;
  sink_(FormatCriLogLine(nanos, stream_, true, pending_));
  pending_.clear();
}

absl::Status CriLogFile::Open(const std::string& path) {
  path_ = path;
  return Reopen();
}

absl::Status CriLogFile::Reopen() {
  fd_.Reset();
  if (path_.empty()) return absl::OkStatus();
  auto slash = path_.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    BERTH_RETURN_IF_ERROR(MakeDirs(path_.substr(0, slash), 0755));
  }
  fd_.Reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd_) return ErrnoError(errno, "open", path_);
  return absl::OkStatus();
}

absl::Status CriLogFile::Append(const std::string& line) {
  if (!fd_) return absl::OkStatus();
  size_t offset = 0;
  while (offset < line.size()) {
    ssize_t n = ::write(fd_.get(), line.data() + offset, line.size() - offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "write", path_);
    }
    offset += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace berth::runtime
