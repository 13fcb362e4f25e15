// Decoding CRI container log files.
//
// Each line of a CRI log file reads "<timestamp> <stream> <tags> <content>". The timestamp is in
// RFC 3339 form and the stream is "stdout" or "stderr". Tags are separated by ':', and the first
// is "P" for a partial line, whose content continues on the next line of the same stream, or "F"
// for the end of a line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::ctl {

enum class LogStream { kStdout, kStderr };

// One line of the log file.
struct LogLine {
  std::string timestamp;
  LogStream stream = LogStream::kStdout;
  bool partial = false;
  std::string content;
};

// One line as the container wrote it, with partial pieces joined.
struct LogEntry {
  // Time stamp of the first piece.
  std::string timestamp;
  LogStream stream = LogStream::kStdout;
  std::string content;
  // False for a line whose end was never written (the log ends inside it).
  bool complete = true;
};

// Parses one log file line, given without its trailing newline. A line without a time stamp,
// an unknown stream or a missing tag is InvalidArgument.
absl::StatusOr<LogLine> ParseCriLogLine(std::string_view line);

// Joins partial lines, keeping one pending line per stream.
class LogAssembler {
 public:
  // Adds a parsed line and returns the entry it completes, or nothing when it was partial.
  std::optional<LogEntry> Add(LogLine line);

  // Returns the lines still pending, each marked incomplete, and clears them.
  std::vector<LogEntry> Flush();

 private:
  std::map<LogStream, LogEntry> pending_;
};

// Decodes a log file that arrives in pieces, as when following a growing file.
class LogDecoder {
 public:
  // Feeds the next bytes of the file and returns the entries they complete. Text after the last
  // newline waits for the next Feed().
  std::vector<LogEntry> Feed(std::string_view bytes);

  // Ends the input: decodes a last line that has no newline, then returns the pending partial
  // lines marked incomplete.
  std::vector<LogEntry> Finish();

  // Lines that did not parse and were left out so far.
  size_t malformed_lines() const { return malformed_lines_; }

 private:
  void DecodeLine(std::string_view line, std::vector<LogEntry>* out);

  std::string unterminated_;
  LogAssembler assembler_;
  size_t malformed_lines_ = 0;
};

// The result of decoding a whole log text.
struct DecodedLog {
  std::vector<LogEntry> entries;
  // Lines that did not parse and were left out.
  size_t malformed_lines = 0;
};

// Decodes `text`: splits it into lines, parses them, joins partial lines. A last line with no
// newline is decoded as well. Pending partial lines are appended at the end, marked incomplete.
DecodedLog DecodeCriLog(std::string_view text);

// Keeps the last `count` entries, or all of them when `count` is negative.
void KeepLastEntries(std::vector<LogEntry>* entries, int64_t count);

// Formats an entry for printing: the content (after the time stamp and a space, when
// `timestamps` is set), ending with a newline unless the entry is incomplete.
std::string FormatLogEntry(const LogEntry& entry, bool timestamps);

}  // namespace berth::ctl
