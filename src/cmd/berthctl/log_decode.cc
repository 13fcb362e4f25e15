#include "cmd/berthctl/log_decode.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace berth::ctl {
namespace {

// Splits off the text up to the next space. Returns false when there is no space.
bool NextField(std::string_view* rest, std::string_view* field) {
  const size_t space = rest->find(' ');
  if (space == std::string_view::npos) return false;
  *field = rest->substr(0, space);
  rest->remove_prefix(space + 1);
  return true;
}

}  // namespace

absl::StatusOr<LogLine> ParseCriLogLine(std::string_view line) {
  LogLine out;
  std::string_view rest = line;
  std::string_view timestamp, stream, tags;
  if (!NextField(&rest, &timestamp) || timestamp.empty() || !NextField(&rest, &stream)) {
    return absl::InvalidArgumentError("log line is missing the time stamp or the stream");
  }
  // The content may be empty, in which case the separator after the tags may be missing too.
  if (!NextField(&rest, &tags)) {
    tags = rest;
    rest = {};
  }

  if (stream == "stdout") {
    out.stream = LogStream::kStdout;
  } else if (stream == "stderr") {
    out.stream = LogStream::kStderr;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("log line names an unknown stream \"", std::string(stream), "\""));
  }

  const std::string_view first_tag = tags.substr(0, tags.find(':'));
  if (first_tag == "P") {
    out.partial = true;
  } else if (first_tag != "F") {
    return absl::InvalidArgumentError(
        absl::StrCat("log line has tag \"", std::string(tags), "\" instead of P or F"));
  }

  out.timestamp = std::string(timestamp);
  out.content = std::string(rest);
  return out;
}

std::optional<LogEntry> LogAssembler::Add(LogLine line) {
  auto pending = pending_.find(line.stream);
  if (pending == pending_.end()) {
    pending = pending_
                  .emplace(line.stream, LogEntry{std::move(line.timestamp), line.stream, "", true})
                  .first;
  }
  pending->second.content.append(line.content);
  if (line.partial) return std::nullopt;

  LogEntry done = std::move(pending->second);
  pending_.erase(pending);
  return done;
}

std::vector<LogEntry> LogAssembler::Flush() {
  std::vector<LogEntry> out;
  for (auto& [stream, entry] : pending_) {
    entry.complete = false;
    out.push_back(std::move(entry));
  }
  pending_.clear();
  return out;
}

void LogDecoder::DecodeLine(std::string_view line, std::vector<LogEntry>* out) {
  if (line.empty()) return;
  absl::StatusOr<LogLine> parsed = ParseCriLogLine(line);
  if (!parsed.ok()) {
    ++malformed_lines_;
    return;
  }
  if (std::optional<LogEntry> entry = assembler_.Add(*std::move(parsed))) {
    out->push_back(*std::move(entry));
  }
}

std::vector<LogEntry> LogDecoder::Feed(std::string_view bytes) {
  std::vector<LogEntry> out;
  while (!bytes.empty()) {
    const size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      unterminated_.append(bytes);
      break;
    }
    if (unterminated_.empty()) {
      DecodeLine(bytes.substr(0, newline), &out);
    } else {
      unterminated_.append(bytes.substr(0, newline));
      DecodeLine(unterminated_, &out);
      unterminated_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
  return out;
}

std::vector<LogEntry> LogDecoder::Finish() {
  std::vector<LogEntry> out;
  DecodeLine(unterminated_, &out);
  unterminated_.clear();
  for (LogEntry& entry : assembler_.Flush()) out.push_back(std::move(entry));
  return out;
}

DecodedLog DecodeCriLog(std::string_view text) {
  LogDecoder decoder;
  DecodedLog out;
  out.entries = decoder.Feed(text);
  for (LogEntry& entry : decoder.Finish()) out.entries.push_back(std::move(entry));
  out.malformed_lines = decoder.malformed_lines();
  return out;
}

void KeepLastEntries(std::vector<LogEntry>* entries, int64_t count) {
  if (count < 0 || static_cast<size_t>(count) >= entries->size()) return;
  entries->erase(entries->begin(),
                 entries->end() - static_cast<std::ptrdiff_t>(count));
}

std::string FormatLogEntry(const LogEntry& entry, bool timestamps) {
  std::string out;
  if (timestamps) absl::StrAppend(&out, entry.timestamp, " ");
  absl::StrAppend(&out, entry.content);
  if (entry.complete) out.push_back('\n');
  return out;
}

}  // namespace berth::ctl
