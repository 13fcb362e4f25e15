// The one wrapper every gRPC method of Berth goes through (habit 6 of the style guide).
//
// For each call it does the following. It rejects the call with UNAVAILABLE until the daemon is
// marked ready. It gives the request an id. It logs the method, the pod / container / image ids
// found in the request (and in the response of calls that create something), the duration and
// the result code. It turns any exception escaping the handler into INTERNAL. It converts the
// handler's absl::Status to a grpc::Status; no other code converts status codes.
//
// Reads (List*, *Status, *Stats, Version, ...) log at debug when done; calls that change state
// log at info when they start and when they end.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <utility>

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>
#include <grpcpp/support/sync_stream.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cri/backend.h"
#include "cri/call_context.h"

namespace berth::cri {

// Whether the daemon accepts calls, and how many unary calls are in progress. Calls that arrive
// before MarkReady() or after MarkNotReady() get UNAVAILABLE, so that a client retries instead
// of seeing half-initialised or half-stopped state.
class ServingState {
 public:
  void MarkReady() { ready_.store(true); }
  void MarkNotReady() { ready_.store(false); }
  bool IsReady() const { return ready_.load(); }

  // Number of admitted unary calls whose handler has not returned yet. After MarkNotReady(),
  // a shutdown waits for this to reach zero. Streams are not counted, because an event stream
  // lasts until it is cancelled.
  int unary_calls_in_flight() const { return unary_calls_.load(); }

 private:
  friend class CallScope;

  std::atomic<bool> ready_{false};
  // Mutable so that services can hold a const ServingState& and still count their calls.
  mutable std::atomic<int> unary_calls_{0};
};

// Log class of a method, which sets the level of its log lines.
enum class RpcKind {
  kRead,    // returns data without changing state; logged at debug
  kChange,  // creates, changes or removes something; logged at info
};

// Name and log class of one RPC method.
struct RpcInfo {
  const char* method;  // full name, e.g. "runtime.v1.RuntimeService/Version"
  RpcKind kind;
};

// Converts a status code by number (absl and gRPC share them) and keeps the message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Appends " key=value" for each id-like field that `message` has and that is set: pod=,
// container=, image=, pod_name=, container_name=, image_ref=. Values that are not plain
// identifiers are quoted and escaped, and long ones cut, so a client cannot forge log lines.
template <typename Message>
void AppendIdFields(const Message& message, std::string& out);

// The state of one call from admission to its result. Used through ServeUnary / ServeStream.
class CallScope {
 public:
  // `unary` calls are counted in state.unary_calls_in_flight() while admitted.
  CallScope(const RpcInfo& rpc, const ServingState& state, grpc::ServerContext* context,
            std::string request_ids, bool unary);
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
  ~CallScope();

  // False when the daemon is not ready; the caller returns Finish() of the refusal.
  bool admitted() const { return admitted_; }

  // Runs the handler, turning an escaping exception into an Internal status.
  absl::Status Run(absl::FunctionRef<absl::Status()> handler);

  // Logs the end of the call and returns the gRPC status to send. `result_ids` contains id
  // fields of the response (see AppendIdFields); `messages` is the count of streamed responses
  // or -1 for a unary call.
  grpc::Status Finish(const absl::Status& status, const std::string& result_ids = {},
                      long messages = -1);

  // Status returned to calls that arrive before the daemon is ready.
  static absl::Status NotReadyStatus();

 private:
  const RpcInfo& rpc_;
  const ServingState& state_;
  bool counted_;
  grpc::ServerContext* context_;
  std::string request_ids_;
  CallContext call_context_;
  const CallContext* previous_;
  std::chrono::steady_clock::time_point start_;
  bool admitted_;
};

// Serves a unary RPC: `handler(request)` returns absl::StatusOr<Response>.
template <typename Request, typename Response, typename Handler>
grpc::Status ServeUnary(const RpcInfo& rpc, const ServingState& state, grpc::ServerContext* context,
                        const Request& request, Response* response, Handler&& handler) {
  std::string request_ids;
  AppendIdFields(request, request_ids);
  CallScope call(rpc, state, context, std::move(request_ids), /*unary=*/true);
  if (!call.admitted()) return call.Finish(CallScope::NotReadyStatus());

  absl::Status status = call.Run([&]() -> absl::Status {
    absl::StatusOr<Response> result = handler(request);
    if (!result.ok()) return result.status();
    *response = std::move(result).value();
    return absl::OkStatus();
  });

  std::string result_ids;
  if (status.ok() && rpc.kind == RpcKind::kChange) AppendIdFields(*response, result_ids);
  return call.Finish(status, result_ids);
}

// Hands a backend's streamed responses to gRPC and counts them.
template <typename Response>
class GrpcResponseWriter final : public ResponseWriter<Response> {
 public:
  GrpcResponseWriter(grpc::ServerContext* context, grpc::ServerWriter<Response>* writer)
      : context_(context), writer_(writer) {}

  bool Write(const Response& message) override {
    if (!writer_->Write(message)) return false;
    ++written_;
    return true;
  }
  bool IsCancelled() const override { return context_->IsCancelled(); }
  long written() const { return written_; }

 private:
  grpc::ServerContext* context_;
  grpc::ServerWriter<Response>* writer_;
  long written_ = 0;
};

// Serves a server-streaming RPC: `handler(request, out)` writes to `out` (a
// ResponseWriter<Response>&) and returns the final absl::Status.
template <typename Request, typename Response, typename Handler>
grpc::Status ServeStream(const RpcInfo& rpc, const ServingState& state,
                         grpc::ServerContext* context, const Request& request,
                         grpc::ServerWriter<Response>* writer, Handler&& handler) {
  std::string request_ids;
  AppendIdFields(request, request_ids);
  CallScope call(rpc, state, context, std::move(request_ids), /*unary=*/false);
  if (!call.admitted()) return call.Finish(CallScope::NotReadyStatus());

  GrpcResponseWriter<Response> out(context, writer);
  absl::Status status = call.Run([&]() -> absl::Status { return handler(request, out); });
  return call.Finish(status, {}, out.written());
}

// ---------------------------------------------------------------------------------------------
// Implementation details of AppendIdFields.

namespace internal {

// Appends " key=value", escaping and cutting the value as needed. Empty values are skipped.
void AppendField(std::string& out, const char* key, const std::string& value);

}  // namespace internal

template <typename Message>
void AppendIdFields(const Message& message, std::string& out) {
  if constexpr (requires { message.pod_sandbox_id(); }) {
    internal::AppendField(out, "pod", message.pod_sandbox_id());
  }
  if constexpr (requires { message.container_id(); }) {
    internal::AppendField(out, "container", message.container_id());
  }
  if constexpr (requires { message.image().image(); }) {
    internal::AppendField(out, "image", message.image().image());
  }
  if constexpr (requires { message.image_ref(); }) {
    internal::AppendField(out, "image_ref", message.image_ref());
  }
  if constexpr (requires { message.config().metadata().namespace_(); }) {
    const auto& metadata = message.config().metadata();
    if (!metadata.name().empty()) {
      internal::AppendField(out, "pod_name", metadata.namespace_() + "/" + metadata.name());
    }
  } else if constexpr (requires { message.config().metadata().name(); }) {
    internal::AppendField(out, "container_name", message.config().metadata().name());
  }
}

}  // namespace berth::cri
