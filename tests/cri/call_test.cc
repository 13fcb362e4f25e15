#include "cri/call.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace berth::cri {
namespace {

TEST(ToGrpcStatusTest, KeepsCodeNumberAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status status(static_cast<absl::StatusCode>(code), "boom");
    grpc::Status converted = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(converted.error_code()), code);
    EXPECT_EQ(converted.error_message(), "boom");
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(ToGrpcStatusTest, MapsNamedCodes) {
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("x")).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(AppendIdFieldsTest, PodSandboxConfigGivesPodName) {
  runtime::v1::RunPodSandboxRequest request;
  request.mutable_config()->mutable_metadata()->set_name("web");
  request.mutable_config()->mutable_metadata()->set_namespace_("default");
  std::string out;
  AppendIdFields(request, out);
  EXPECT_EQ(out, " pod_name=default/web");
}

TEST(AppendIdFieldsTest, ContainerRequestGivesPodAndContainerName) {
  runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id("abc123");
  request.mutable_config()->mutable_metadata()->set_name("app");
  std::string out;
  AppendIdFields(request, out);
  EXPECT_EQ(out, " pod=abc123 container_name=app");
}

TEST(AppendIdFieldsTest, ImageAndContainerIds) {
  runtime::v1::PullImageRequest pull;
  pull.mutable_image()->set_image("docker.io/library/busybox:latest");
  std::string out;
  AppendIdFields(pull, out);
  EXPECT_EQ(out, " image=docker.io/library/busybox:latest");

  runtime::v1::StopContainerRequest stop;
  stop.set_container_id("c1");
  out.clear();
  AppendIdFields(stop, out);
  EXPECT_EQ(out, " container=c1");
}

TEST(AppendIdFieldsTest, EmptyFieldsAreLeftOut) {
  runtime::v1::ListContainersRequest request;
  std::string out;
  AppendIdFields(request, out);
  EXPECT_EQ(out, "");
}

TEST(AppendIdFieldsTest, OddValuesAreQuotedEscapedAndCut) {
  runtime::v1::StopContainerRequest request;
  request.set_container_id("evil\nreq=1 code=OK");
  std::string out;
  AppendIdFields(request, out);
  EXPECT_EQ(out, " container=\"evil\\nreq=1 code=OK\"");

  request.set_container_id(std::string(500, 'a'));
  out.clear();
  AppendIdFields(request, out);
  EXPECT_EQ(out.size(), std::string(" container=").size() + 200 + 3);
}

// Drives ServeUnary without a server; a null ServerContext is allowed by the wrapper.
class ServeUnaryTest : public ::testing::Test {
 protected:
  static constexpr RpcInfo kRpc{"runtime.v1.RuntimeService/StopContainer", RpcKind::kChange};
  ServingState state_;
  runtime::v1::StopContainerRequest request_;
  runtime::v1::StopContainerResponse response_;
};

TEST_F(ServeUnaryTest, RefusesCallsUntilReady) {
  bool called = false;
  grpc::Status status = ServeUnary(kRpc, state_, nullptr, request_, &response_,
                                   [&](const runtime::v1::StopContainerRequest&)
                                       -> absl::StatusOr<runtime::v1::StopContainerResponse> {
                                     called = true;
                                     return runtime::v1::StopContainerResponse();
                                   });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(called);
}

TEST_F(ServeUnaryTest, PassesHandlerErrorThrough) {
  state_.MarkReady();
  grpc::Status status = ServeUnary(kRpc, state_, nullptr, request_, &response_,
                                   [](const runtime::v1::StopContainerRequest&)
                                       -> absl::StatusOr<runtime::v1::StopContainerResponse> {
                                     return absl::FailedPreconditionError("container c1 is paused");
                                   });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "container c1 is paused");
}

TEST_F(ServeUnaryTest, TurnsExceptionsIntoInternal) {
  state_.MarkReady();
  grpc::Status status = ServeUnary(kRpc, state_, nullptr, request_, &response_,
                                   [](const runtime::v1::StopContainerRequest&)
                                       -> absl::StatusOr<runtime::v1::StopContainerResponse> {
                                     throw std::runtime_error("bad thing");
                                   });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(status.error_message().find("bad thing"), std::string::npos);
  EXPECT_NE(status.error_message().find("StopContainer"), std::string::npos);

  status = ServeUnary(kRpc, state_, nullptr, request_, &response_,
                      [](const runtime::v1::StopContainerRequest&)
                          -> absl::StatusOr<runtime::v1::StopContainerResponse> { throw 42; });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
}

TEST_F(ServeUnaryTest, CountsCallsInFlight) {
  state_.MarkReady();
  int inside = -1;
  grpc::Status status = ServeUnary(kRpc, state_, nullptr, request_, &response_,
                                   [&](const runtime::v1::StopContainerRequest&)
                                       -> absl::StatusOr<runtime::v1::StopContainerResponse> {
                                     inside = state_.unary_calls_in_flight();
                                     return runtime::v1::StopContainerResponse();
                                   });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(inside, 1);
  EXPECT_EQ(state_.unary_calls_in_flight(), 0);

  state_.MarkNotReady();
  status = ServeUnary(kRpc, state_, nullptr, request_, &response_,
                      [](const runtime::v1::StopContainerRequest&)
                          -> absl::StatusOr<runtime::v1::StopContainerResponse> {
                        return runtime::v1::StopContainerResponse();
                      });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(state_.unary_calls_in_flight(), 0);
}

TEST_F(ServeUnaryTest, HandlerSeesCurrentCall) {
  state_.MarkReady();
  std::string method;
  std::string request_id;
  grpc::Status status = ServeUnary(kRpc, state_, nullptr, request_, &response_,
                                   [&](const runtime::v1::StopContainerRequest&)
                                       -> absl::StatusOr<runtime::v1::StopContainerResponse> {
                                     const CallContext* call = CallContext::Current();
                                     if (call == nullptr)
                                       return absl::InternalError("no current call");
                                     method = call->method();
                                     request_id = call->request_id();
                                     return runtime::v1::StopContainerResponse();
                                   });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(method, "runtime.v1.RuntimeService/StopContainer");
  EXPECT_FALSE(request_id.empty());
  EXPECT_EQ(CallContext::Current(), nullptr);
}

}  // namespace
}  // namespace berth::cri
