// Runs RuntimeServiceImpl and ImageServiceImpl in an in-process gRPC server and calls every
// method of the runtime.v1 schema by name, so a method that skips the wrapper shows up.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "cri/backend.h"
#include "cri/call.h"
#include "cri/image_service.h"
#include "cri/runtime_service.h"

namespace berth::cri {
namespace {

using std::chrono::seconds;

// Calls `method` ("/runtime.v1.RuntimeService/Attach") with `request`, whatever its kind, and
// counts the responses.
grpc::Status CallByName(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                        const google::protobuf::Message& request, int* responses) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  void* tag = nullptr;
  bool ok = false;

  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &queue);
  call->StartCall(reinterpret_cast<void*>(1));
  queue.Next(&tag, &ok);

  std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer buffer(&slice, 1);
  call->WriteLast(buffer, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  queue.Next(&tag, &ok);

  *responses = 0;
  for (int i = 0; i < 100; ++i) {
    grpc::ByteBuffer reply;
    call->Read(&reply, reinterpret_cast<void*>(3));
    queue.Next(&tag, &ok);
    if (!ok) break;
    ++*responses;
  }

  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return status;
}

const google::protobuf::ServiceDescriptor* FindService(const std::string& name) {
  return runtime::v1::VersionRequest::descriptor()->file()->FindServiceByName(name);
}

// A backend that streams, fails and throws on purpose.
class FakeRuntimeBackend : public RuntimeBackend {
 public:
  absl::Status StreamContainers(
      const runtime::v1::StreamContainersRequest&,
      ResponseWriter<runtime::v1::StreamContainersResponse>& out) override {
    runtime::v1::StreamContainersResponse batch;
    batch.add_containers()->set_id("c1");
    for (int i = 0; i < 3; ++i) {
      if (!out.Write(batch)) return absl::CancelledError("client went away");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<runtime::v1::StopContainerResponse> StopContainer(
      const runtime::v1::StopContainerRequest&) override {
    throw std::logic_error("stop exploded");
  }
  absl::StatusOr<runtime::v1::RemoveContainerResponse> RemoveContainer(
      const runtime::v1::RemoveContainerRequest& request) override {
    return absl::NotFoundError("container " + request.container_id() + " not found");
  }
};

class ServiceTest : public ::testing::Test {
 protected:
  void StartServer(RuntimeBackend& runtime_backend) {
    runtime_service_ = std::make_unique<RuntimeServiceImpl>(runtime_backend, state_, [] {
      return NetworkCondition{false, "NetworkPluginNotReady", "not yet"};
    });
    image_service_ = std::make_unique<ImageServiceImpl>(image_backend_, state_);
    grpc::ServerBuilder builder;
    builder.RegisterService(runtime_service_.get());
    builder.RegisterService(image_service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + seconds(5));
  }

  ServingState state_;
  RuntimeBackend default_runtime_backend_;
  ImageBackend image_backend_;
  std::unique_ptr<RuntimeServiceImpl> runtime_service_;
  std::unique_ptr<ImageServiceImpl> image_service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServiceTest, EveryMethodAnswersThroughTheWrapper) {
  StartServer(default_runtime_backend_);
  state_.MarkReady();
  int checked = 0;
  for (const char* service_name : {"RuntimeService", "ImageService"}) {
    const google::protobuf::ServiceDescriptor* service = FindService(service_name);
    ASSERT_NE(service, nullptr) << service_name;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      std::string full_name = method->service()->full_name() + "/" + method->name();
      const google::protobuf::Message* request =
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type());
      int responses = 0;
      grpc::Status status = CallByName(channel_, "/" + full_name, *request, &responses);

      if (method->name() == "Version" || method->name() == "Status" ||
          method->name() == "RuntimeConfig") {
        EXPECT_TRUE(status.ok()) << full_name << ": " << status.error_message();
        EXPECT_EQ(responses, 1) << full_name;
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << full_name;
        EXPECT_EQ(status.error_message(), full_name + " is not implemented by berth");
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 43);
}

TEST_F(ServiceTest, EveryMethodIsRefusedUntilReady) {
  StartServer(default_runtime_backend_);
  for (const char* service_name : {"RuntimeService", "ImageService"}) {
    const google::protobuf::ServiceDescriptor* service = FindService(service_name);
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      const google::protobuf::Message* request =
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type());
      int responses = 0;
      grpc::Status status =
          CallByName(channel_, "/" + method->service()->full_name() + "/" + method->name(),
                     *request, &responses);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << method->full_name();
    }
  }
}

TEST_F(ServiceTest, StatusAndTrailerAndBackendResults) {
  FakeRuntimeBackend backend;
  StartServer(backend);
  state_.MarkReady();
  runtime::v1::RuntimeService::Stub stub(channel_);

  grpc::ClientContext status_context;
  runtime::v1::StatusResponse status_response;
  ASSERT_TRUE(stub.Status(&status_context, {}, &status_response).ok());
  ASSERT_EQ(status_response.status().conditions_size(), 2);
  EXPECT_EQ(status_response.status().conditions(1).reason(), "NetworkPluginNotReady");
  EXPECT_EQ(status_response.status().conditions(1).message(), "not yet");
  auto trailer = status_context.GetServerTrailingMetadata().find("berth-request-id");
  ASSERT_NE(trailer, status_context.GetServerTrailingMetadata().end());
  EXPECT_FALSE(trailer->second.empty());

  grpc::ClientContext stream_context;
  auto reader = stub.StreamContainers(&stream_context, {});
  runtime::v1::StreamContainersResponse batch;
  int batches = 0;
  while (batches < 10 && reader->Read(&batch)) ++batches;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(batches, 3);

  grpc::ClientContext stop_context;
  runtime::v1::StopContainerResponse stop_response;
  grpc::Status stop = stub.StopContainer(&stop_context, {}, &stop_response);
  EXPECT_EQ(stop.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(stop.error_message().find("stop exploded"), std::string::npos);

  grpc::ClientContext remove_context;
  runtime::v1::RemoveContainerRequest remove_request;
  remove_request.set_container_id("c9");
  runtime::v1::RemoveContainerResponse remove_response;
  grpc::Status remove = stub.RemoveContainer(&remove_context, remove_request, &remove_response);
  EXPECT_EQ(remove.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(remove.error_message(), "container c9 not found");

  // The server survived the exception.
  grpc::ClientContext version_context;
  runtime::v1::VersionResponse version;
  EXPECT_TRUE(stub.Version(&version_context, {}, &version).ok());
  EXPECT_EQ(version.runtime_name(), "berth");
}

}  // namespace
}  // namespace berth::cri
