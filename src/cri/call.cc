#include "cri/call.h"

#include <exception>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace berth::cri {
namespace {

// Maximum length of a logged field value. Longer values are cut and marked with "...".
constexpr size_t kMaxFieldLength = 200;

thread_local const CallContext* current_call = nullptr;

std::atomic<uint64_t> next_request_id{1};

std::shared_ptr<spdlog::logger> Log() {
  static const std::shared_ptr<spdlog::logger> logger = Logger("cri");
  return logger;
}

bool IsPlainValue(const std::string& value) {
  for (char c : value) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@';
    if (!plain) return false;
  }
  return true;
}

}  // namespace

const CallContext* CallContext::Current() { return current_call; }

bool CallContext::IsCancelled() const { return context_ != nullptr && context_->IsCancelled(); }

std::chrono::system_clock::time_point CallContext::deadline() const {
  if (context_ == nullptr) return std::chrono::system_clock::time_point::max();
  return context_->deadline();
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  int code = static_cast<int>(status.code());
  if (code < 0 || code > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), std::string(status.message()));
}

namespace internal {

void AppendField(std::string& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  std::string shown = value.size() > kMaxFieldLength ? value.substr(0, kMaxFieldLength) : value;
  const char* cut = value.size() > kMaxFieldLength ? "..." : "";
  if (IsPlainValue(shown)) {
    absl::StrAppend(&out, " ", key, "=", shown, cut);
  } else {
    absl::StrAppend(&out, " ", key, "=\"", absl::CEscape(shown), cut, "\"");
  }
}

}  // namespace internal

CallScope::CallScope(const RpcInfo& rpc, const ServingState& state, grpc::ServerContext* context,
                     std::string request_ids, bool unary)
    : rpc_(rpc),
      state_(state),
      counted_(unary),
      context_(context),
      request_ids_(std::move(request_ids)),
      call_context_(std::to_string(next_request_id.fetch_add(1, std::memory_order_relaxed)),
                    rpc.method, context),
      previous_(current_call),
      start_(std::chrono::steady_clock::now()),
      admitted_(false) {
  // Counting before the readiness check pairs with MarkNotReady() before reading the count in
  // a shutdown. So either the shutdown counts this call, or this call finds the daemon not ready.
  if (counted_) state_.unary_calls_.fetch_add(1);
  admitted_ = state_.IsReady();
  if (counted_ && !admitted_) {
    state_.unary_calls_.fetch_sub(1);
    counted_ = false;
  }

  current_call = &call_context_;
  if (context_ != nullptr) {
    context_->AddTrailingMetadata("berth-request-id", call_context_.request_id());
  }
  if (admitted_ && rpc_.kind == RpcKind::kChange) {
    Log()->info("rpc start req={} method={}{}", call_context_.request_id(), rpc_.method,
                request_ids_);
  }
}

CallScope::~CallScope() {
  current_call = previous_;
  if (counted_) state_.unary_calls_.fetch_sub(1);
}

absl::Status CallScope::Run(absl::FunctionRef<absl::Status()> handler) {
  try {
    return handler();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("berth: unexpected exception in ", rpc_.method, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("berth: unexpected non-standard exception in ", rpc_.method));
  }
}

grpc::Status CallScope::Finish(const absl::Status& status, const std::string& result_ids,
                               long messages) {
  double duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  std::string line = absl::StrCat("rpc end req=", call_context_.request_id(),
                                  " method=", rpc_.method, request_ids_, result_ids);
  if (messages >= 0) absl::StrAppend(&line, " messages=", messages);
  absl::StrAppend(&line, " duration_ms=", static_cast<long>(duration_ms * 1000) / 1000.0,
                  " code=", absl::StatusCodeToString(status.code()));
  if (!status.ok()) {
    absl::StrAppend(&line, " error=\"", absl::CEscape(status.message()), "\"");
  }

  // Internal and Unknown mean a bug or a broken host, worth attention whatever the method.
  spdlog::level::level_enum level =
      rpc_.kind == RpcKind::kChange ? spdlog::level::info : spdlog::level::debug;
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown) {
    level = spdlog::level::err;
  }
  if (!admitted_) level = spdlog::level::debug;
  Log()->log(level, "{}", line);

  return ToGrpcStatus(status);
}

absl::Status CallScope::NotReadyStatus() {
  return absl::UnavailableError("berthd is starting or stopping and does not serve calls; retry");
}

}  // namespace berth::cri
