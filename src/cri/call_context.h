// Facts about the RPC that the calling thread is serving, for backends that want them (a log
// line with the request id, a long pull that should stop when the kubelet gives up).
#pragma once

#include <chrono>
#include <string>
#include <utility>

namespace grpc {
class ServerContext;
}

namespace berth::cri {

class CallContext {
 public:
  CallContext(std::string request_id, const char* method, grpc::ServerContext* context)
      : request_id_(std::move(request_id)), method_(method), context_(context) {}
  CallContext(const CallContext&) = delete;
  CallContext& operator=(const CallContext&) = delete;

  // The call being served on this thread, or nullptr outside an RPC. Valid until the backend
  // method returns; do not keep the pointer.
  static const CallContext* Current();

  // Id the daemon gave the request; it appears as req=<id> on every log line of the call and in
  // the berth-request-id trailer of the response.
  const std::string& request_id() const { return request_id_; }

  // Full method name, e.g. "runtime.v1.RuntimeService/RunPodSandbox".
  const char* method() const { return method_; }

  // True once the client cancelled the call or its deadline passed.
  bool IsCancelled() const;

  // The client's deadline; time_point::max() when it set none.
  std::chrono::system_clock::time_point deadline() const;

 private:
  std::string request_id_;
  const char* method_;
  grpc::ServerContext* context_;
};

}  // namespace berth::cri
