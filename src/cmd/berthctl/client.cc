#include "cmd/berthctl/client.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "cmd/berthctl/flags.h"
#include "cmd/berthctl/json_output.h"

namespace berth::ctl {
namespace {

// Lists of many containers or images can exceed gRPC's default 4 MiB message limit.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;

}  // namespace

Client::Client(const GlobalOptions& options) : options_(options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageBytes);
  channel_ = grpc::CreateCustomChannel(options_.endpoint, grpc::InsecureChannelCredentials(),
                                       arguments);
  runtime_ = runtime::v1::RuntimeService::NewStub(channel_);
  image_ = runtime::v1::ImageService::NewStub(channel_);
  admin_ = admin::v1::Admin::NewStub(channel_);
}

std::optional<std::chrono::system_clock::time_point> Client::SetDeadline(
    grpc::ClientContext& context, Timeout timeout) {
  if (!timeout.has_value() || timeout->count() <= 0) return std::nullopt;
  auto deadline = std::chrono::system_clock::now() + *timeout;
  context.set_deadline(deadline);
  return deadline;
}

absl::Status Client::StreamStatus(const grpc::Status& status,
                                  std::optional<std::chrono::system_clock::time_point> deadline,
                                  Timeout timeout) const {
  if (status.ok()) return absl::OkStatus();
  const bool deadline_passed =
      deadline.has_value() && std::chrono::system_clock::now() >= *deadline;
  return FromGrpc(status, deadline_passed ? timeout : std::nullopt);
}

Timeout Client::ReadTimeout() const {
  if (options_.timeout.count() == 0) return std::nullopt;
  return options_.timeout;
}

Timeout Client::ChangeTimeout(std::chrono::milliseconds extra) const {
  if (options_.timeout.count() == 0) return std::nullopt;
  return options_.timeout + kChangeAllowance + extra;
}

Timeout Client::PullTimeout() const {
  if (options_.pull_timeout.count() == 0) return std::nullopt;
  return options_.pull_timeout;
}

void Client::DebugPrint(const char* label, const google::protobuf::Message& message) const {
  absl::StatusOr<nlohmann::ordered_json> tree = MessageToJsonTree(message);
  std::cerr << "debug: " << label << " " << message.GetDescriptor()->name() << ": "
            << (tree.ok() ? tree->dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                          : std::string(tree.status().message()))
            << "\n";
}

absl::Status Client::FromGrpc(const grpc::Status& status, Timeout passed_timeout) const {
  // gRPC and absl number their codes alike.
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = status.error_message();
  // gRPC's own message when the socket cannot be reached; an UNAVAILABLE that berthd sends, such
  // as an unreachable registry, needs no hint about the endpoint.
  bool no_connection = message.find("failed to connect") != std::string::npos ||
                       message.find("Connection refused") != std::string::npos ||
                       message.find("No such file or directory") != std::string::npos;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && no_connection) {
    absl::StrAppend(&message, " (is berthd serving ", options_.endpoint,
                    "? see --runtime-endpoint)");
  } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
             passed_timeout.has_value()) {
    absl::StrAppend(&message, " (no response within ", FormatDuration(*passed_timeout),
                    "; raise --timeout, or --pull-timeout for pulls)");
  }
  return absl::Status(code, message);
}

}  // namespace berth::ctl
