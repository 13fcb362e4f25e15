#include "image/layer_fetch.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/gzip_inflater.h"
#include "image/pull_progress.h"
#include "image/unpack.h"

namespace berth::image {
namespace {

std::shared_ptr<spdlog::logger> Log() { return Logger("image"); }

// A larger pipe lets the download run ahead of the unpacker by this much.
constexpr int kPipeBytes = 1 << 20;
constexpr size_t kDrainBlock = 1 << 16;

// Reads `fd` to its end and discards the bytes, so the writer cannot block forever on a reader
// that stopped early. Returns at end of file or on a read error.
void Drain(int fd) {
  auto buffer = std::make_unique<char[]>(kDrainBlock);
  while (true) {
    ssize_t n = ::read(fd, buffer.get(), kDrainBlock);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

// True when an unpack failed for lack of disk, quota or memory, which more bytes cannot cure.
// Any other failure may come from corrupted bytes, which the blob's digest then names, so the
// download goes on to the end to check it.
bool StopsDownload(const absl::Status& status) { return absl::IsResourceExhausted(status); }

// True when `chunk`, the start of a blob, begins with the gzip magic.
bool IsGzip(std::string_view chunk) {
  return !chunk.empty() && static_cast<unsigned char>(chunk[0]) == 0x1f &&
         (chunk.size() < 2 || static_cast<unsigned char>(chunk[1]) == 0x8b);
}

// The checks a streamed blob passes through: its digest and size, and when the blob is kept, the
// content store writer that also verifies it.
class BlobCheck {
 public:
  static absl::StatusOr<BlobCheck> Start(PullContext& context, const Descriptor& blob,
                                         const std::string& what) {
    BlobCheck check(DigestVerifier(what, blob.digest, blob.size));
    if (context.keep_layer_blobs) {
      BERTH_ASSIGN_OR_RETURN(check.writer_, context.content.NewWriter(blob.digest, blob.size, what));
    }
    return check;
  }

  absl::Status Update(std::string_view chunk) {
    if (writer_) return writer_->Write(chunk);
    return verifier_.Update(chunk);
  }

  // Verifies the whole blob and, when it is kept, renames it into the content store.
  absl::Status Finish() {
    if (writer_) return writer_->Commit();
    return verifier_.Finish();
  }

 private:
  explicit BlobCheck(DigestVerifier verifier) : verifier_(std::move(verifier)) {}

  DigestVerifier verifier_;
  std::unique_ptr<ContentStore::Writer> writer_;
};

// Downloads the layer into `fs_dir`: the registry's bytes are checked and written into a pipe
// in this thread while a second thread unpacks from the other end.
absl::Status StreamLayer(PullContext& context, const Reference& ref, const LayerTask& task,
                         const std::string& fs_dir, const std::string& what,
                         const PullStop& stop, BlobProgress& progress) {
  BERTH_ASSIGN_OR_RETURN(BlobCheck check, BlobCheck::Start(context, task.blob, what));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe2", what);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  (void)::fcntl(write_end.get(), F_SETPIPE_SZ, kPipeBytes);  // a smaller pipe only costs speed

  // The unpacker opens the pipe by path, as it does a blob file. After it returns it drains the
  // pipe, so a failed unpack never leaves the download blocked on a full pipe.
  std::string pipe_path = absl::StrCat("/proc/self/fd/", read_end.get());
  absl::Status unpacked;
  std::atomic<bool> unpack_broke{false};
  std::thread unpacker;
  try {
    unpacker = std::thread([&] {
      unpacked = UnpackLayer(pipe_path, fs_dir, task.diff_id, what);
      unpack_broke = StopsDownload(unpacked);
      Drain(read_end.get());
    });
  } catch (const std::system_error& error) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": cannot start the unpack thread: ", error.what()));
  }

  // A gzip stream is inflated here, in the download thread, when igzip is available; the
  // unpacker then reads plain tar. Other streams go to the unpacker as they are.
  auto to_pipe = [&](std::string_view bytes) { return WriteAll(write_end.get(), bytes, pipe_path); };
  std::unique_ptr<GzipInflater> inflater;
  bool first_chunk = true;
  absl::Status inflated;  // after an inflate error, chunks are only verified

  // Most unpack failures let the download go on: a corrupted blob then fails on its digest,
  // which names the cause better than the tar error it led to. A full disk stops it at once.
  absl::Status fetched = context.registry.FetchBlob(
      ref, task.blob, what, [&](std::string_view chunk) -> absl::Status {
        if (unpack_broke) return absl::AbortedError(absl::StrCat(what, ": unpack failed"));
        BERTH_RETURN_IF_ERROR(stop.Check(ref.String()));
        BERTH_RETURN_IF_ERROR(check.Update(chunk));
        if (first_chunk && IsGzip(chunk) && GzipInflater::Available()) {
          inflater = std::make_unique<GzipInflater>(what, to_pipe);
        }
        first_chunk = false;
        if (!inflater) {
          BERTH_RETURN_IF_ERROR(to_pipe(chunk));
        } else if (inflated.ok()) {
          inflated = inflater->Update(chunk);
        }
        progress.Add(chunk.size());
        return absl::OkStatus();
      });
  if (fetched.ok()) fetched = check.Finish();
  if (inflater && inflated.ok()) inflated = inflater->Finish();
  write_end.Reset();  // end of file for the unpacker
  unpacker.join();
  if (unpack_broke) return unpacked;
  BERTH_RETURN_IF_ERROR(fetched);
  BERTH_RETURN_IF_ERROR(inflated);
  return unpacked;
}

// Fills `fs_dir` with the layer, from the content store when its blob is there, else from the
// registry. Sets `fetched` when bytes came from the registry.
absl::Status FillLayer(PullContext& context, const Reference& ref, const LayerTask& task,
                       const std::string& fs_dir, const PullStop& stop, BlobProgress& progress,
                       bool& fetched) {
  std::string what = absl::StrCat("layer ", task.blob.digest, " of ", ref.String());
  BERTH_RETURN_IF_ERROR(stop.Check(ref.String()));
  if (context.content.Has(task.blob.digest)) {
    return UnpackLayer(context.content.BlobPath(task.blob.digest), fs_dir, task.diff_id, what);
  }
  fetched = true;
  return StreamLayer(context, ref, task, fs_dir, what, stop, progress);
}

}  // namespace

absl::Status PullStop::Check(std::string_view image) const {
  if (options_.cancelled && options_.cancelled()) {
    return absl::CancelledError(absl::StrCat("pull of ", std::string(image), " cancelled"));
  }
  if (failed_) {
    return absl::AbortedError(
        absl::StrCat("pull of ", std::string(image), " stopped: another layer failed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Snapshot> EnsureLayer(PullContext& context, const Reference& ref,
                                     const LayerTask& task, const PullStop& stop) {
  BlobProgress progress(context.options, task.blob.digest, "layer",
                        static_cast<uint64_t>(task.blob.size));
  if (auto existing = context.snapshots.Find(task.chain_id)) {
    progress.Done(/*reused=*/true);
    return *existing;
  }

  int64_t started = NowNanos();
  bool fetched = false;
  BERTH_ASSIGN_OR_RETURN(
      Snapshot snapshot,
      context.snapshots.Create(task.chain_id, task.parent, task.diff_id,
                               [&](const std::string& fs_dir) {
                                 return FillLayer(context, ref, task, fs_dir, stop, progress,
                                                  fetched);
                               }));
  progress.Done(/*reused=*/!fetched);
  Log()->debug("layer ready image={} layer={} snapshot={} fetched={} ms={}", ref.String(),
               task.blob.digest, snapshot.number, fetched, (NowNanos() - started) / 1000000);
  return snapshot;
}

}  // namespace berth::image
