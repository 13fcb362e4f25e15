// The logs verb: prints a container's CRI log file, optionally following it as it grows.
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/status.h"
#include "cmd/berthctl/log_decode.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {
namespace {

// How often a followed log file is read again, and how often the container's state is checked
// to learn whether more can come.
constexpr auto kFollowPollInterval = std::chrono::milliseconds(200);
constexpr auto kFollowStateInterval = std::chrono::seconds(1);

struct LogsOptions {
  int64_t tail = -1;
  bool follow = false;
  bool timestamps = false;
};

// Prints entries to the stream they were written to, flushing each, so stdout and stderr lines
// that share a terminal appear in the order the container wrote them.
void PrintEntries(const std::vector<LogEntry>& entries, bool timestamps) {
  for (const LogEntry& entry : entries) {
    std::ostream& out = entry.stream == LogStream::kStderr ? std::cerr : std::cout;
    out << FormatLogEntry(entry, timestamps) << std::flush;
  }
}

// An open log file read from where the last read stopped. When the file is replaced (log
// rotation) or truncated, reading starts again at the beginning of the new content.
class LogReader {
 public:
  explicit LogReader(std::string path) : path_(std::move(path)) {}

  absl::Status Open() {
    fd_.Reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) return ErrnoError(errno, "open", path_);
    return absl::OkStatus();
  }

  // Reads everything available now and appends it to `out`.
  absl::Status ReadAvailable(std::string* out) {
    char buffer[65536];
    while (true) {
      const ssize_t n = ::read(fd_.get(), buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError(errno, "read", path_);
      if (n == 0) return absl::OkStatus();
      out->append(buffer, static_cast<size_t>(n));
    }
  }

  // Checks, after reading to the end, whether the path now names another file or the file
  // shrank, and if so starts over on the file the path names now. Lines written to a replaced
  // file after the last read are appended to `leftover` first.
  absl::StatusOr<bool> RestartIfReplaced(std::string* leftover) {
    struct stat open_file {};
    struct stat named_file {};
    if (::fstat(fd_.get(), &open_file) != 0) return ErrnoError(errno, "fstat", path_);
    if (::stat(path_.c_str(), &named_file) != 0) {
      // Between rotation's rename and the new file's creation the path may be missing.
      if (errno == ENOENT) return false;
      return ErrnoError(errno, "stat", path_);
    }
    if (named_file.st_ino != open_file.st_ino || named_file.st_dev != open_file.st_dev) {
      BERTH_RETURN_IF_ERROR(ReadAvailable(leftover));
      BERTH_RETURN_IF_ERROR(Open());
      return true;
    }
    const off_t position = ::lseek(fd_.get(), 0, SEEK_CUR);
    if (position > open_file.st_size) {
      if (::lseek(fd_.get(), 0, SEEK_SET) < 0) return ErrnoError(errno, "lseek", path_);
      return true;
    }
    return false;
  }

 private:
  std::string path_;
  UniqueFd fd_;
};

// Whether a container in this state may still write to its log.
bool MayWriteMore(runtime::v1::ContainerState state) {
  return state == runtime::v1::CONTAINER_RUNNING || state == runtime::v1::CONTAINER_CREATED;
}

// Follows the log until the container stops (or is removed), printing lines as they come.
absl::Status Follow(Session& session, const std::string& id, const LogsOptions& options,
                    LogReader* reader, LogDecoder* decoder) {
  auto next_state_check = std::chrono::steady_clock::now();
  bool last_round = false;
  while (true) {
    std::string data;
    BERTH_RETURN_IF_ERROR(reader->ReadAvailable(&data));
    PrintEntries(decoder->Feed(data), options.timestamps);
    if (last_round) break;

    if (data.empty()) {
      std::string leftover;
      absl::StatusOr<bool> restarted = reader->RestartIfReplaced(&leftover);
      if (!restarted.ok()) return restarted.status();
      PrintEntries(decoder->Feed(leftover), options.timestamps);
      if (*restarted) continue;
    }

    if (std::chrono::steady_clock::now() >= next_state_check) {
      next_state_check = std::chrono::steady_clock::now() + kFollowStateInterval;
      absl::StatusOr<runtime::v1::ContainerStatus> status = GetContainerStatus(session, id);
      // Once the container is gone or stopped, one more read picks up its last lines.
      if (!status.ok() && status.status().code() != absl::StatusCode::kNotFound) {
        return status.status();
      }
      last_round = !status.ok() || !MayWriteMore(status->state());
    }
    std::this_thread::sleep_for(kFollowPollInterval);
  }
  PrintEntries(decoder->Finish(), options.timestamps);
  return absl::OkStatus();
}

absl::StatusOr<int> RunLogs(Session& session, const LogsOptions& options, const Args& args) {
  const std::string& id = args[0];
  absl::StatusOr<runtime::v1::ContainerStatus> status = GetContainerStatus(session, id);
  if (!status.ok()) return status.status();
  if (status->log_path().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", id, " has no log file (its config sets no log_path)"));
  }

  LogReader reader(status->log_path());
  BERTH_RETURN_IF_ERROR(reader.Open());
  std::string data;
  BERTH_RETURN_IF_ERROR(reader.ReadAvailable(&data));

  // What is in the file now is printed at once, cut to the last --tail lines.
  LogDecoder decoder;
  std::vector<LogEntry> entries = decoder.Feed(data);
  if (!options.follow) {
    for (LogEntry& entry : decoder.Finish()) entries.push_back(std::move(entry));
  }
  KeepLastEntries(&entries, options.tail);
  PrintEntries(entries, options.timestamps);

  if (options.follow) {
    BERTH_RETURN_IF_ERROR(Follow(session, status->id().empty() ? id : status->id(), options,
                                 &reader, &decoder));
  }
  if (decoder.malformed_lines() > 0) {
    std::cerr << "berthctl: logs: skipped " << decoder.malformed_lines()
              << " line(s) that are not in the CRI log format" << std::endl;
  }
  return 0;
}

}  // namespace

Verb LogsVerb() {
  return Verb{
      .name = "logs",
      .args = "ID",
      .summary = "Print the logs of a container",
      .details = "Prints what the container wrote, read from its CRI log file: its stdout lines\n"
                 "on stdout and its stderr lines on stderr. With --follow, keeps printing new\n"
                 "lines until the container stops.\n",
      .min_args = 1,
      .max_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<LogsOptions>();
            flags.AddInt("tail", 0, &options->tail, "N",
                         "print only the last N lines (default: all)");
            flags.AddBool("follow", 'f', &options->follow,
                          "keep printing new lines until the container stops");
            flags.AddBool("timestamps", 't', &options->timestamps,
                          "start each line with the time it was written");
            return Action([options](Session& session, const Args& args) {
              return RunLogs(session, *options, args);
            });
          },
  };
}

}  // namespace berth::ctl
