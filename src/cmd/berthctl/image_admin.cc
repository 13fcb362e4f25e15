// Image verbs on Berth's admin service: pull with progress, and `images import`.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/status.h"
#include "cmd/berthctl/pull_progress.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {
namespace {

namespace admin = ::berth::admin::v1;

// Bytes per ImportChunk: well under gRPC's default message limit of 4 MiB.
constexpr size_t kChunkBytes = 1 << 20;

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::Status NoAdminService(const std::string& what) {
  return absl::UnimplementedError(absl::StrCat(
      "the endpoint has no Berth admin service (berth.admin.v1.Admin), so ", what,
      " is not possible there; it needs berthd"));
}

struct ImportOptions {
  std::string base_name;
};

// Sends the bytes of `fd` as the chunks of an ImportImage call.
absl::Status SendArchive(int fd, const std::string& name, const ImportOptions& options,
                         grpc::ClientWriter<admin::ImportChunk>& writer) {
  std::string buffer(kChunkBytes, '\0');
  admin::ImportChunk chunk;
  chunk.set_base_name(options.base_name);
  bool sent_any = false;
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "read", name);
    if (n == 0 && sent_any) return absl::OkStatus();
    chunk.set_data(buffer.data(), static_cast<size_t>(n));
    // A refused write means the server ended the call, and Finish() returns the reason.
    if (!writer.Write(chunk)) return absl::OkStatus();
    sent_any = true;
    chunk.clear_base_name();
    if (n == 0) return absl::OkStatus();
  }
}

absl::StatusOr<int> RunImport(Session& session, const ImportOptions& options, const Args& args) {
  const std::string& name = args[0];
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (name != "-") {
    owned.Reset(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned) return ErrnoError(errno, "open", name);
    fd = owned.get();
  }

  Client& client = session.client();
  grpc::ClientContext context;
  auto deadline = Client::SetDeadline(context, client.PullTimeout());
  admin::ImportImageResponse response;
  std::unique_ptr<grpc::ClientWriter<admin::ImportChunk>> writer =
      client.admin().ImportImage(&context, &response);
  absl::Status sent = SendArchive(fd, name == "-" ? "standard input" : name, options, *writer);
  if (!sent.ok()) {
    context.TryCancel();
    (void)writer->Finish();
    return sent;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED && status.error_message().empty()) {
    return NoAdminService("images import");
  }
  BERTH_RETURN_IF_ERROR(client.StreamStatus(status, deadline, client.PullTimeout()));

  for (const admin::ImportedImage& image : response.images()) {
    for (const std::string& tag : image.repo_tags()) {
      std::cout << "Imported image: " << tag << "\n";
    }
    std::cout << "Imported image ID: " << image.id() << "\n";
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::string> PullWithProgress(Session& session, const std::string& image,
                                             const AuthFlags& auth, bool quiet) {
  admin::PullImageRequest request;
  request.set_image(image);
  if (!auth.creds.empty() || !auth.auth.empty()) {
    absl::StatusOr<runtime::v1::AuthConfig> config = MakeAuthConfig(auth);
    if (!config.ok()) return config.status();
    admin::Credentials* credentials = request.mutable_credentials();
    credentials->set_username(config->username());
    credentials->set_password(config->password());
    credentials->set_auth(config->auth());
  }

  Client& client = session.client();
  grpc::ClientContext context;
  auto deadline = Client::SetDeadline(context, client.PullTimeout());
  std::unique_ptr<grpc::ClientReader<admin::PullProgress>> reader =
      client.admin().PullImage(&context, request);
  PullDisplay display(std::cout, ::isatty(STDOUT_FILENO) == 1, MonotonicNanos);
  admin::PullProgress message;
  std::string image_id;
  bool received = false;
  while (reader->Read(&message)) {
    received = true;
    if (!message.image_id().empty()) image_id = message.image_id();
    if (!quiet) display.Update(message);
  }
  grpc::Status status = reader->Finish();
  if (!received && status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
      status.error_message().empty()) {
    return NoAdminService("a pull with progress");
  }
  BERTH_RETURN_IF_ERROR(client.StreamStatus(status, deadline, client.PullTimeout()));
  if (!quiet) display.Finish();
  if (image_id.empty()) {
    return absl::InternalError("the pull stream ended without naming the image");
  }
  return image_id;
}

Verb ImportVerb() {
  return Verb{
      .name = "images import",
      .args = "FILE",
      .summary = "Import images from an OCI or docker save archive",
      .details =
          "Loads the images of FILE into the runtime, as `ctr images import` does: an OCI\n"
          "image layout tarball (oci-archive) or a `docker save` tarball, plain or compressed.\n"
          "FILE - reads standard input. Prints each imported name and image id. Needs\n"
          "berthd's admin service; the wait is bounded by --pull-timeout (a global flag).\n",
      .min_args = 1,
      .max_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<ImportOptions>();
            flags.AddString("base-name", 0, &options->base_name, "REPOSITORY",
                            "repository for images an OCI archive names by a bare tag");
            return Action([options](Session& session, const Args& args) {
              return RunImport(session, *options, args);
            });
          },
  };
}

}  // namespace berth::ctl
