// Container output in the CRI log format that kubelet reads:
//   <RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <content>\n
// F marks the end of a line (the newline itself is not part of the content), P a piece of a
// longer line: one cut at the maximum line size, or the unterminated tail at end of stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "base/fd.h"

namespace berth::runtime {

enum class LogStream { kStdout, kStderr };

// Formats one log line, newline included.
std::string FormatCriLogLine(int64_t nanos, LogStream stream, bool partial,
                             const std::string& content);

// Splits one stream's bytes into log lines and hands each formatted line to a sink.
class CriLineSplitter {
 public:
  static constexpr size_t kMaxLineSize = 16 * 1024;

  using Sink = std::function<void(const std::string& line)>;
  CriLineSplitter(LogStream stream, Sink sink, size_t max_line_size = kMaxLineSize)
      : stream_(stream), sink_(std::move(sink)), max_line_size_(max_line_size) {}

  // Adds bytes read at time `nanos`; emits every complete line and every full-size piece.
  void Feed(const char* data, size_t size, int64_t nanos);

  // Emits what is left of an unterminated line as a partial line (end of stream).
  void Finish(int64_t nanos);

 private:
  LogStream stream_;
  Sink sink_;
  size_t max_line_size_;
  std::string pending_;
};

// The log file: opened for append, reopened on request (after kubelet rotated it). An empty path
// drops everything.
class CriLogFile {
 public:
  absl::Status Open(const std::string& path);
  absl::Status Reopen();

  // Appends one formatted line with a single write, so lines never interleave. A failed write is
  // returned; the caller decides whether to log it.
  absl::Status Append(const std::string& line);

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace berth::runtime
