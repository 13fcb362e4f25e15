// The gRPC connection of berthctl to a CRI endpoint. Client::Call is the one place that turns
// gRPC results into absl::Status.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "berth/admin/v1/admin.grpc.pb.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::ctl {

// Settings given before the verb, shared by every verb.
struct GlobalOptions {
  // gRPC target of the CRI socket, e.g. unix:///run/berth/berth.sock.
  std::string endpoint;
  // Deadline of requests that only read state, or zero for none. Default 2s.
  std::chrono::milliseconds timeout{2000};
  // Deadline of image pulls, or zero for none. Default 30m.
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(30)};
  // Print every request and response on stderr.
  bool debug = false;
};

// How long one request may take, or nullopt for no deadline.
using Timeout = std::optional<std::chrono::milliseconds>;

class Client {
 public:
  // Extra time for requests that change state (create, start, stop, remove), because they wait
  // on processes, mounts and networking.
  static constexpr std::chrono::minutes kChangeAllowance{2};

  // Prepares a channel to options.endpoint. Nothing connects until the first request.
  explicit Client(const GlobalOptions& options);

  // Deadlines for the three kinds of requests, as GlobalOptions describes them. `extra` is
  // added to the deadline of a change, e.g. the grace period of a stop.
  Timeout ReadTimeout() const;
  Timeout ChangeTimeout(std::chrono::milliseconds extra = std::chrono::milliseconds(0)) const;
  Timeout PullTimeout() const;

  // Sends one request through a RuntimeService or ImageService stub method, e.g.
  //   client.Call(&RuntimeService::Stub::Version, request, client.ReadTimeout()).
  // A failed call returns its gRPC code with the server's message, plus a hint when the
  // endpoint cannot be reached or the deadline passed.
  // Berth's admin service (berth.admin.v1.Admin) on the same connection, for streaming calls.
  // Another CRI runtime answers its methods with UNIMPLEMENTED.
  admin::v1::Admin::Stub& admin() { return *admin_; }

  // Sets the deadline of a streaming call's context from `timeout`; returns the deadline, or
  // nullopt when there is none.
  static std::optional<std::chrono::system_clock::time_point> SetDeadline(
      grpc::ClientContext& context, Timeout timeout);

  // Converts the result of a streaming call as Call() does: the server's code and message, plus
  // a hint when the endpoint cannot be reached or the client deadline passed.
  absl::Status StreamStatus(const grpc::Status& status,
                            std::optional<std::chrono::system_clock::time_point> deadline,
                            Timeout timeout) const;

  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                             const Request&, Response*),
                                const Request& request, Timeout timeout) {
    Stub* stub = nullptr;
    if constexpr (std::is_same_v<Stub, runtime::v1::RuntimeService::Stub>) {
      stub = runtime_.get();
    } else {
      static_assert(std::is_same_v<Stub, runtime::v1::ImageService::Stub>);
      stub = image_.get();
    }

    grpc::ClientContext context;
    std::optional<std::chrono::system_clock::time_point> deadline;
    if (timeout.has_value() && timeout->count() > 0) {
      deadline = std::chrono::system_clock::now() + *timeout;
      context.set_deadline(*deadline);
    }
    if (options_.debug) DebugPrint("request", Redacted(request));
    Response response;
    const grpc::Status status = (stub->*method)(&context, request, &response);
    if (!status.ok()) {
      // DEADLINE_EXCEEDED may also come from the server, as when an exec times out. The hint
      // about --timeout is added only when the client deadline has passed.
      const bool deadline_passed =
          deadline.has_value() && std::chrono::system_clock::now() >= *deadline;
      return FromGrpc(status, deadline_passed ? timeout : std::nullopt);
    }
    if (options_.debug) DebugPrint("response", response);
    return response;
  }

 private:
  // A copy of the request safe to print: credentials are dropped.
  template <typename Request>
  static Request Redacted(const Request& request) {
    Request copy = request;
    if constexpr (std::is_same_v<Request, runtime::v1::PullImageRequest>) copy.clear_auth();
    return copy;
  }

  void DebugPrint(const char* label, const google::protobuf::Message& message) const;
  // Converts a failed call. `passed_timeout` is the client deadline when it passed, else nullopt.
  absl::Status FromGrpc(const grpc::Status& status, Timeout passed_timeout) const;

  GlobalOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<runtime::v1::ImageService::Stub> image_;
  std::unique_ptr<admin::v1::Admin::Stub> admin_;
};

}  // namespace berth::ctl
