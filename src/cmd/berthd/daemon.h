// The berthd daemon between main() and the gRPC services: prepares its folders and socket,
// builds the backends, serves runtime.v1 on the unix socket, and stops serving on request.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <grpcpp/server.h>

#include "absl/status/status.h"
#include "base/fd.h"
#include "cmd/berthd/config.h"
#include "cri/admin_service.h"
#include "cri/backend.h"
#include "cri/call.h"
#include "cri/image_service.h"
#include "cri/runtime_info.h"
#include "cri/runtime_service.h"
#include "image/image_store.h"
#include "network/cni_manager.h"
#include "pod/pod_manager.h"
#include "runtime/runtime.h"

namespace berth::berthd {

class Daemon {
 public:
  // `config` is validated already (ValidateConfig) and has its binary paths resolved.
  explicit Daemon(Config config);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();

  // Creates the root and state folders, builds the backends, listens on the socket and marks
  // the services ready. On error nothing is left listening.
  absl::Status Start();

  // Rejects new calls, lets unary calls in flight finish for up to `grace`, cancels the rest
  // (and every stream), and removes the socket. Containers, shims and mounts are left alone, so
  // they keep running across a restart. Safe to call more than once.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  absl::Status PrepareFolders();
  absl::Status BuildBackends();
  absl::Status PrepareSocket();
  absl::Status StartServer();

  Config config_;
  std::vector<UniqueFd> folder_locks_;  // flock(2) on <root>/berthd.lock and <state>/berthd.lock
  cri::ServingState serving_;

  // Built by BuildBackends(), in this order: the backends use the managers.
  std::unique_ptr<berth::image::ImageStore> image_store_;
  std::unique_ptr<berth::runtime::Runtime> container_runtime_;
  std::unique_ptr<berth::network::CniManager> cni_;
  std::unique_ptr<berth::pod::PodManager> pods_;
  std::unique_ptr<cri::RuntimeBackend> runtime_backend_;
  std::unique_ptr<cri::ImageBackend> image_backend_;
  std::function<cri::NetworkCondition()> network_condition_;

  std::unique_ptr<cri::RuntimeServiceImpl> runtime_service_;
  std::unique_ptr<cri::ImageServiceImpl> image_service_;
  std::unique_ptr<cri::AdminServiceImpl> admin_service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace berth::berthd
