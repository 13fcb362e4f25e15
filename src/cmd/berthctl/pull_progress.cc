#include "cmd/berthctl/pull_progress.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace berth::ctl {
namespace {

constexpr int64_t kMillis = 1000000;
// A terminal is redrawn at most this often, plain output prints a total at most this often.
constexpr int64_t kRedrawInterval = 100 * kMillis;
constexpr int64_t kTotalLineInterval = 1000 * kMillis;
constexpr size_t kBarWidth = 24;

// ANSI: move the cursor up `n` lines; erase the line.
std::string CursorUp(size_t n) { return absl::StrCat("\x1b[", n, "A"); }
constexpr const char* kEraseLine = "\x1b[2K";

std::string Bar(uint64_t done, uint64_t total) {
  size_t filled = total == 0 ? 0 : static_cast<size_t>(kBarWidth * std::min(done, total) / total);
  return absl::StrCat("[", std::string(filled, '='), std::string(kBarWidth - filled, ' '), "]");
}

std::string Seconds(int64_t nanos) {
  return absl::StrFormat("%.1fs", static_cast<double>(nanos) / 1e9);
}

}  // namespace

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  // Three significant digits: 1.50 KiB, 12.3 MiB, 512 MiB.
  const char* format = "%.0f %s";
  if (value < 10) {
    format = "%.2f %s";
  } else if (value < 100) {
    format = "%.1f %s";
  }
  char text[32];
  std::snprintf(text, sizeof(text), format, value, kUnits[unit]);
  return text;
}

std::string ShortDigest(const std::string& digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() > kPrefix.size() + 12 && digest.starts_with(kPrefix)) {
    return digest.substr(0, kPrefix.size() + 12);
  }
  return digest;
}

PullDisplay::PullDisplay(std::ostream& out, bool terminal, std::function<int64_t()> now)
    : out_(out), terminal_(terminal), now_(std::move(now)), started_(now_()) {
  last_total_line_ = started_;
}

void PullDisplay::Update(const admin::v1::PullProgress& message) {
  for (const admin::v1::BlobProgress& update : message.blobs()) {
    auto [it, added] = blobs_.try_emplace(update.digest());
    if (added) order_.push_back(update.digest());
    Blob& blob = it->second;
    bool finished_now = update.done() && !blob.done;
    blob.digest = update.digest();
    blob.kind = update.kind();
    blob.downloaded = update.downloaded();
    blob.total = update.total();
    blob.done = update.done();
    blob.reused = update.reused();
    if (!terminal_ && finished_now) out_ << BlobLine(blob) << "\n";
  }

  int64_t now = now_();
  if (terminal_) {
    if (now - last_draw_ >= kRedrawInterval) Redraw();
  } else if (now - last_total_line_ >= kTotalLineInterval) {
    out_ << TotalLine() << "\n";
    last_total_line_ = now;
  }
  out_.flush();
}

void PullDisplay::Finish() {
  if (terminal_) {
    Redraw();
  } else if (!blobs_.empty()) {
    out_ << TotalLine() << "\n";
  }
  out_.flush();
}

std::string PullDisplay::BlobLine(const Blob& blob) const {
  std::string head = absl::StrFormat("%-8s %s", blob.kind, ShortDigest(blob.digest));
  if (blob.reused) return absl::StrCat(head, "  present");
  if (blob.done) return absl::StrCat(head, "  done ", FormatBytes(blob.downloaded));
  std::string of = blob.total > 0 ? absl::StrCat(" / ", FormatBytes(blob.total)) : "";
  if (!terminal_) return absl::StrCat(head, "  ", FormatBytes(blob.downloaded), of);
  return absl::StrCat(head, "  ", Bar(blob.downloaded, blob.total), " ",
                      FormatBytes(blob.downloaded), of);
}

std::string PullDisplay::TotalLine() const {
  uint64_t downloaded = 0;
  uint64_t total = 0;
  size_t done = 0;
  for (const auto& [digest, blob] : blobs_) {
    if (blob.done) ++done;
    if (blob.reused) continue;  // nothing was fetched for it
    downloaded += blob.downloaded;
    total += blob.total;
  }
  int64_t elapsed = std::max<int64_t>(now_() - started_, 1);
  auto rate = static_cast<uint64_t>(static_cast<double>(downloaded) * 1e9 /
                                    static_cast<double>(elapsed));
  return absl::StrCat("total    ", done, "/", blobs_.size(), " blobs  ", FormatBytes(downloaded),
                      " / ", FormatBytes(total), "  ", FormatBytes(rate), "/s  ",
                      Seconds(elapsed));
}

void PullDisplay::Redraw() {
  std::string frame;
  if (drawn_lines_ > 0) frame = CursorUp(drawn_lines_);
  for (const std::string& digest : order_) {
    absl::StrAppend(&frame, "\r", kEraseLine, BlobLine(blobs_.at(digest)), "\n");
  }
  absl::StrAppend(&frame, "\r", kEraseLine, TotalLine(), "\n");
  out_ << frame;
  drawn_lines_ = order_.size() + 1;
  last_draw_ = now_();
}

}  // namespace berth::ctl
