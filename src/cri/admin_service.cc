#include "cri/admin_service.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/id.h"
#include "base/log.h"
#include "base/status.h"

namespace berth::cri {
namespace {

namespace admin = ::berth::admin::v1;

std::shared_ptr<spdlog::logger> Log() { return Logger("cri"); }

constexpr const char* kSpoolSuffix = ".archive";

// Progress reports of one pull, handed from the download threads to the thread that writes
// the stream. Reports of one blob that arrive between two messages are merged into the latest.
class ProgressQueue {
 public:
  // Called from download threads; only takes a lock and copies.
  void Report(const image::PullProgress& progress) {
    std::lock_guard<std::mutex> lock(mutex_);
    changed_[progress.digest] = progress;
    if (progress.done) cv_.notify_one();
  }

  void Finish() {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    cv_.notify_one();
  }

  // Waits until a blob is done, the pull ends or `interval` passes, then returns the reports
  // gathered so far. Sets `*finished` once the pull has ended.
  std::vector<image::PullProgress> Take(std::chrono::milliseconds interval, bool* finished) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, interval, [this] {
      if (finished_) return true;
      for (const auto& [digest, progress] : changed_) {
        if (progress.done) return true;
      }
      return false;
    });
    std::vector<image::PullProgress> taken;
    for (auto& [digest, progress] : changed_) taken.push_back(std::move(progress));
    changed_.clear();
    *finished = finished_;
    return taken;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, image::PullProgress> changed_;
  bool finished_ = false;
};

admin::PullProgress ToMessage(const std::vector<image::PullProgress>& reports) {
  admin::PullProgress message;
  for (const image::PullProgress& report : reports) {
    admin::BlobProgress* blob = message.add_blobs();
    blob->set_digest(report.digest);
    blob->set_kind(report.kind);
    blob->set_downloaded(report.downloaded);
    blob->set_total(report.total);
    blob->set_done(report.done);
    blob->set_reused(report.reused);
  }
  return message;
}

image::Credentials ToCredentials(const admin::Credentials& from) {
  image::Credentials credentials;
  credentials.username = from.username();
  credentials.password = from.password();
  credentials.auth = from.auth();
  credentials.identity_token = from.identity_token();
  credentials.registry_token = from.registry_token();
  return credentials;
}

// Deletes spooled archives an earlier berthd left when it stopped during an import.
absl::Status RemoveLeftoverSpools(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), ::closedir);
  if (!listing) return ErrnoError(errno, "opendir", dir);
  while (struct dirent* entry = ::readdir(listing.get())) {
    std::string name = entry->d_name;
    if (!name.ends_with(kSpoolSuffix)) continue;
    std::string path = JoinPath(dir, name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "unlink", path);
    Log()->info("removed an unfinished import path={}", path);
  }
  return absl::OkStatus();
}

}  // namespace

AdminServiceImpl::AdminServiceImpl(image::ImageStore* store, const ServingState& state,
                                   AdminServiceOptions options)
    : store_(store), state_(state), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<AdminServiceImpl>> AdminServiceImpl::Create(
    image::ImageStore* store, const ServingState& state, AdminServiceOptions options) {
  BERTH_RETURN_IF_ERROR(Annotate(MakeDirs(options.spool_dir, 0700), "create import spool"));
  BERTH_RETURN_IF_ERROR(RemoveLeftoverSpools(options.spool_dir));
  return std::unique_ptr<AdminServiceImpl>(
      new AdminServiceImpl(store, state, std::move(options)));
}

grpc::Status AdminServiceImpl::PullImage(grpc::ServerContext* context,
                                         const admin::PullImageRequest* request,
                                         grpc::ServerWriter<admin::PullProgress>* writer) {
  static constexpr RpcInfo kRpc{"berth.admin.v1.Admin/PullImage", RpcKind::kChange};
  return ServeStream(kRpc, state_, context, *request, writer,
                     [this](const admin::PullImageRequest& r,
                            ResponseWriter<admin::PullProgress>& out) { return Pull(r, out); });
}

absl::Status AdminServiceImpl::Pull(const admin::PullImageRequest& request,
                                    ResponseWriter<admin::PullProgress>& out) {
  if (request.image().empty()) return absl::InvalidArgumentError("image is missing or empty");

  // The pull runs on a thread of its own so that this one can write the stream. `stop` is set
  // when the client has gone away, and the pull polls it.
  ProgressQueue queue;
  std::atomic<bool> stop{false};
  image::PullOptions options;
  options.credentials = ToCredentials(request.credentials());
  options.cancelled = [&stop] { return stop.load(); };
  options.on_progress = [&queue](const image::PullProgress& progress) { queue.Report(progress); };
  absl::StatusOr<image::ImageRecord> pulled = absl::UnknownError("pull did not finish");
  std::jthread puller([&] {
    pulled = store_->Pull(request.image(), options);
    queue.Finish();
  });

  bool finished = false;
  while (!finished) {
    std::vector<image::PullProgress> reports = queue.Take(options_.progress_interval, &finished);
    if (stop.load()) continue;  // drain until the pull notices
    if (out.IsCancelled() || (!reports.empty() && !out.Write(ToMessage(reports)))) {
      Log()->info("pull stream cancelled by the client image={}", request.image());
      stop.store(true);
    }
  }
  puller.join();

  if (stop.load()) {
    return absl::CancelledError(absl::StrCat("pull of ", request.image(), " cancelled"));
  }
  if (!pulled.ok()) return pulled.status();
  admin::PullProgress last;
  last.set_image_id(pulled->id);
  for (const std::string& tag : pulled->repo_tags) last.add_repo_tags(tag);
  for (const std::string& digest : pulled->repo_digests) last.add_repo_digests(digest);
  if (!out.Write(last)) {
    return absl::CancelledError(absl::StrCat("pull of ", request.image(),
                                             " finished, but the client was gone"));
  }
  return absl::OkStatus();
}

grpc::Status AdminServiceImpl::ImportImage(grpc::ServerContext* context,
                                           grpc::ServerReader<admin::ImportChunk>* reader,
                                           admin::ImportImageResponse* response) {
  static constexpr RpcInfo kRpc{"berth.admin.v1.Admin/ImportImage", RpcKind::kChange};
  CallScope call(kRpc, state_, context, "", /*unary=*/true);
  if (!call.admitted()) return call.Finish(CallScope::NotReadyStatus());

  absl::Status status = call.Run([&]() -> absl::Status {
    BERTH_ASSIGN_OR_RETURN(*response, Import(context, reader));
    return absl::OkStatus();
  });
  std::string result_ids;
  for (const admin::ImportedImage& image : response->images()) {
    internal::AppendField(result_ids, "image", image.id());
  }
  return call.Finish(status, result_ids);
}

absl::StatusOr<admin::ImportImageResponse> AdminServiceImpl::Import(
    grpc::ServerContext* context, grpc::ServerReader<admin::ImportChunk>* reader) {
  // 1. Write the stream to a spool file. The cleanup stack deletes it when this returns.
  std::string path = JoinPath(options_.spool_dir, absl::StrCat(NewId(), kSpoolSuffix));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return ErrnoError(errno, "create", path);
  CleanupStack cleanup;
  cleanup.Push("remove " + path, [path]() -> absl::Status {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "unlink", path);
    return absl::OkStatus();
  });

  image::ImportOptions options;
  int64_t received = 0;
  bool first = true;
  admin::ImportChunk chunk;
  while (reader->Read(&chunk)) {
    if (first) options.base_name = chunk.base_name();
    first = false;
    received += static_cast<int64_t>(chunk.data().size());
    if (received > options_.max_archive_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("archive is larger than the limit of ",
                                                       options_.max_archive_bytes, " bytes"));
    }
    BERTH_RETURN_IF_ERROR(WriteAll(fd.get(), chunk.data(), path));
  }
  if (context->IsCancelled()) return absl::CancelledError("import cancelled by the client");
  if (received == 0) return absl::InvalidArgumentError("the archive is empty");
  fd.Reset();

  // 2. Import it.
  options.cancelled = [context] { return context->IsCancelled(); };
  BERTH_ASSIGN_OR_RETURN(std::vector<image::ImageRecord> records, store_->Import(path, options));
  admin::ImportImageResponse response;
  for (const image::ImageRecord& record : records) {
    admin::ImportedImage* image = response.add_images();
    image->set_id(record.id);
    for (const std::string& tag : record.repo_tags) image->add_repo_tags(tag);
    for (const std::string& digest : record.repo_digests) image->add_repo_digests(digest);
    image->set_size(static_cast<uint64_t>(record.size));
  }
  return response;
}

}  // namespace berth::cri
