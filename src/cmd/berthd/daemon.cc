#include "cmd/berthd/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status.h"
#include "cri/pod_backend.h"
#include "cri/store_image_backend.h"

namespace berth::berthd {
namespace {

// Upper bound on the threads gRPC's synchronous server may run at once. Each call in flight
// uses one, including long-lived event streams.
constexpr int kMaxServerThreads = 64;

// Largest request accepted, as large as the kubelet's own limit.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;

// Pause between two checks for calls in flight during a shutdown.
constexpr std::chrono::milliseconds kDrainPollInterval(10);

// Permissions of the CRI socket: root and the socket's group only.
constexpr mode_t kSocketMode = 0660;

// Permissions of the root and state folders: only root lists them, others may pass through.
constexpr mode_t kFolderMode = 0711;

std::shared_ptr<spdlog::logger> Log() { return Logger("berthd"); }

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

// True when a process accepts connections on the unix socket at `path`.
absl::StatusOr<bool> SomeoneListens(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoError(errno, "socket", "AF_UNIX");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", path));
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    return true;
  }
  if (errno == ECONNREFUSED || errno == ENOENT) return false;
  return ErrnoError(errno, "connect", path);
}

}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Shutdown(std::chrono::milliseconds(0)); }

absl::Status Daemon::Start() {
  BERTH_RETURN_IF_ERROR(PrepareFolders());
  BERTH_RETURN_IF_ERROR(BuildBackends());

  runtime_service_ = std::make_unique<cri::RuntimeServiceImpl>(
      *runtime_backend_, serving_, network_condition_,
      config_.runtime.cgroup_driver == "systemd" ? ::runtime::v1::SYSTEMD : ::runtime::v1::CGROUPFS);
  image_service_ = std::make_unique<cri::ImageServiceImpl>(*image_backend_, serving_);
  BERTH_ASSIGN_OR_RETURN(
      admin_service_,
      cri::AdminServiceImpl::Create(image_store_.get(), serving_,
                                    {.spool_dir = JoinPath(config_.daemon.root, "import")}));

  BERTH_RETURN_IF_ERROR(PrepareSocket());
  BERTH_RETURN_IF_ERROR(StartServer());

  serving_.MarkReady();
  Log()->info("berthd ready version={} listen={} root={} state={}", cri::BerthVersion(),
              config_.daemon.listen, config_.daemon.root, config_.daemon.state);
  return absl::OkStatus();
}

void Daemon::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  serving_.MarkNotReady();
  Log()->info("berthd stopping grace_ms={} calls_in_flight={}", grace.count(),
              serving_.unary_calls_in_flight());

  // gRPC's own grace period would also wait for idle client connections (a kubelet keeps one
  // open), so the wait for calls in flight happens here and gRPC then stops at once,
  // cancelling streams and whatever calls are left.
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (serving_.unary_calls_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kDrainPollInterval);
  }
  if (int left = serving_.unary_calls_in_flight(); left > 0) {
    Log()->warn("cancelling calls still in flight after the grace period calls={}", left);
  }
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();

  struct stat st {};
  if (::lstat(config_.daemon.listen.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    if (::unlink(config_.daemon.listen.c_str()) != 0) {
      Log()->warn("could not remove socket path={} error=\"{}\"", config_.daemon.listen,
                  std::strerror(errno));
    }
  }
  Log()->info("berthd stopped; containers were left running");
}

absl::Status Daemon::PrepareFolders() {
  BERTH_RETURN_IF_ERROR(Annotate(MakeDirs(config_.daemon.root, kFolderMode), "create root"));
  BERTH_RETURN_IF_ERROR(Annotate(MakeDirs(config_.daemon.state, kFolderMode), "create state"));

  // Two daemons on one root or state would each act on the other's pods, so the second one
  // stops here, before it loads any record. The kernel releases the locks when berthd exits.
  for (const std::string& dir : {config_.daemon.root, config_.daemon.state}) {
    std::string path = JoinPath(dir, "berthd.lock");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return ErrnoError(errno, "open", path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            absl::StrCat("another berthd already uses ", dir, " (", path, " is locked)"));
      }
      return ErrnoError(errno, "flock", path);
    }
    folder_locks_.push_back(std::move(fd));
  }
  return absl::OkStatus();
}

absl::Status Daemon::BuildBackends() {
  image::ImageStoreOptions image_options;
  image_options.root = config_.daemon.root;
  image_options.insecure_registries = config_.image.insecure_registries;
  image_options.registry_config_dir = config_.image.registry_config_dir;
  image_options.pull_progress_timeout_seconds = config_.image.pull_progress_timeout_seconds;
  image_options.max_concurrent_downloads = config_.image.max_concurrent_downloads;
  image_options.keep_layer_blobs = config_.image.keep_layer_blobs;
  if (!config_.image.sandbox_image.empty()) {
    image_options.pinned_images.push_back(config_.image.sandbox_image);
  }
  BERTH_ASSIGN_OR_RETURN(image_store_, image::ImageStore::Open(std::move(image_options)));

  runtime::RuntimeOptions runtime_options;
  runtime_options.state_dir = JoinPath(config_.daemon.state, "shims");
  runtime_options.shim_path = config_.runtime.shim_path;
  container_runtime_ = std::make_unique<runtime::Runtime>(std::move(runtime_options));

  network::CniManagerOptions cni_options;
  cni_options.conf_dir = config_.network.conf_dir;
  cni_options.bin_dirs = config_.network.bin_dirs;
  cni_options.cache_dir = JoinPath(config_.daemon.root, "cni");
  cni_options.plugin_timeout = absl::Seconds(config_.network.plugin_timeout_seconds);
  cni_ = std::make_unique<network::CniManager>(std::move(cni_options));

  pod::PodManagerOptions pod_options;
  pod_options.root = config_.daemon.root;
  pod_options.state = config_.daemon.state;
  pod_options.pause_binary = config_.runtime.pause_path;
  if (config_.runtime.cgroup_driver == "systemd") pod_options.default_cgroup_parent = "berth.slice";
  pod_options.cni = cni_.get();
  pod_options.userns_ownership = config_.runtime.userns_ownership;
  BERTH_ASSIGN_OR_RETURN(pods_, pod::PodManager::Open(std::move(pod_options), image_store_.get(),
                                                      container_runtime_.get()));

  runtime_backend_ = std::make_unique<cri::PodBackend>(pods_.get());
  image_backend_ = std::make_unique<cri::StoreImageBackend>(
      image_store_.get(), JoinPath(config_.daemon.root, "containers"));
  network_condition_ = [cni = cni_.get()] {
    network::NetworkCondition condition = cni->Condition();
    return cri::NetworkCondition{condition.ready, condition.reason, condition.message};
  };
  return absl::OkStatus();
}

absl::Status Daemon::PrepareSocket() {
  const std::string& path = config_.daemon.listen;
  BERTH_RETURN_IF_ERROR(Annotate(MakeDirs(ParentOf(path), 0755), "create socket folder"));

  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(errno, "lstat", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; refusing to replace it"));
  }
  BERTH_ASSIGN_OR_RETURN(bool listening, SomeoneListens(path));
  if (listening) {
    return absl::AlreadyExistsError(absl::StrCat("another process already serves ", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "unlink", path);
  Log()->info("removed stale socket path={}", path);
  return absl::OkStatus();
}

absl::Status Daemon::StartServer() {
  const std::string& path = config_.daemon.listen;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());

  grpc::ResourceQuota quota("berthd");
  quota.SetMaxThreads(kMaxServerThreads);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);

  builder.RegisterService(runtime_service_.get());
  builder.RegisterService(image_service_.get());
  builder.RegisterService(admin_service_.get());

  server_ = builder.BuildAndStart();
  if (!server_) {
    return absl::UnavailableError(
        absl::StrCat("listen on unix:", path, " failed (see the gRPC message above)"));
  }

  // Calls are refused until MarkReady(), so the moment before this chmod exposes nothing.
  if (::chmod(path.c_str(), kSocketMode) != 0) {
    absl::Status status = ErrnoError(errno, "chmod", path);
    Shutdown(std::chrono::milliseconds(0));
    return status;
  }
  return absl::OkStatus();
}

}  // namespace berth::berthd
