// Bad input over the CRI socket: each rejection has the code a client can act on and names the
// invalid value, Stop and Remove of unknown ids succeed, and a rejected request leaves nothing
// behind.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/cri_fixture.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// An id no daemon ever made: ids are 64 hex digits.
constexpr char kUnknownId[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// Reports `status` under `label` and expects it to have `code` and a message containing each of
// `parts`.
void ExpectError(const std::string& label, const absl::Status& status, absl::StatusCode code,
                 const std::vector<std::string>& parts) {
  Report(label, status.ToString());
  EXPECT_EQ(status.code(), code) << status;
  for (const std::string& part : parts) {
    EXPECT_TRUE(absl::StrContains(status.message(), part))
        << "message \"" << status.message() << "\" does not name \"" << part << "\"";
  }
}

class CriErrorsTest : public CriTest {
 protected:
  absl::Status RunPodRaw(const v1::PodSandboxConfig& config) {
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    v1::RunPodSandboxResponse response;
    return FromGrpc(runtime().RunPodSandbox(NewClientContext(std::chrono::seconds(30)).get(),
                                            request, &response));
  }

  int PodCount() {
    v1::ListPodSandboxResponse pods;
    grpc::Status status = runtime().ListPodSandbox(NewClientContext().get(), {}, &pods);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return pods.items_size();
  }

  int ContainerCount() {
    v1::ListContainersResponse containers;
    grpc::Status status = runtime().ListContainers(NewClientContext().get(), {}, &containers);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return containers.containers_size();
  }

  int ImageCount() {
    v1::ListImagesResponse listed;
    grpc::Status status = images().ListImages(NewClientContext().get(), {}, &listed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return listed.images_size();
  }

  // Returns the cgroup folders below the test's cgroup parent, in every hierarchy.
  std::vector<std::string> CgroupChildren() {
    std::vector<std::string> children;
    for (const std::string& dir : CgroupDirsOf(cgroup_parent())) {
      for (const std::string& name : ListDir(dir)) {
        if (PathExists(JoinPath(JoinPath(dir, name), "cgroup.procs"))) {
          children.push_back(JoinPath(dir, name));
        }
      }
    }
    return children;
  }

  // Runs the pod "errors" after pulling the image.
  void RunPodWithImage() {
    absl::StatusOr<std::string> pulled = Pull();
    ASSERT_TRUE(pulled.ok()) << pulled.status();
    pod_ = PodConfig("errors");
    absl::StatusOr<std::string> id = RunPod(pod_);
    ASSERT_TRUE(id.ok()) << id.status();
    pod_id_ = *id;
  }

  v1::PodSandboxConfig pod_;
  std::string pod_id_;
};

TEST_F(CriErrorsTest, PodWithoutNameIsInvalid) {
  v1::PodSandboxConfig no_metadata = PodConfig("x");
  no_metadata.clear_metadata();
  ExpectError("no_metadata", RunPodRaw(no_metadata), absl::StatusCode::kInvalidArgument,
              {"config.metadata"});

  v1::PodSandboxConfig no_name = PodConfig("x");
  no_name.mutable_metadata()->set_name("");
  ExpectError("empty_name", RunPodRaw(no_name), absl::StatusCode::kInvalidArgument,
              {"config.metadata.name"});

  EXPECT_EQ(PodCount(), 0);
  EXPECT_TRUE(ListDir(JoinPath(daemon().root(), "sandboxes")).empty());
}

TEST_F(CriErrorsTest, UnknownIdsAreNotFound) {
  v1::StartContainerRequest start;
  start.set_container_id(kUnknownId);
  v1::StartContainerResponse start_response;
  ExpectError("start_unknown",
              FromGrpc(runtime().StartContainer(NewClientContext().get(), start, &start_response)),
              absl::StatusCode::kNotFound, {kUnknownId});

  v1::ContainerStatusRequest container;
  container.set_container_id(kUnknownId);
  v1::ContainerStatusResponse container_response;
  ExpectError(
      "status_unknown",
      FromGrpc(runtime().ContainerStatus(NewClientContext().get(), container, &container_response)),
      absl::StatusCode::kNotFound, {kUnknownId});

  v1::PodSandboxStatusRequest pod;
  pod.set_pod_sandbox_id(kUnknownId);
  v1::PodSandboxStatusResponse pod_response;
  ExpectError("pod_status_unknown",
              FromGrpc(runtime().PodSandboxStatus(NewClientContext().get(), pod, &pod_response)),
              absl::StatusCode::kNotFound, {kUnknownId});
}

TEST_F(CriErrorsTest, StopRemoveUnknownIdsSucceed) {
  v1::StopPodSandboxRequest stop_pod;
  stop_pod.set_pod_sandbox_id(kUnknownId);
  v1::StopPodSandboxResponse stop_pod_response;
  grpc::Status status =
      runtime().StopPodSandbox(NewClientContext().get(), stop_pod, &stop_pod_response);
  EXPECT_TRUE(status.ok()) << "StopPodSandbox: " << status.error_message();

  v1::RemovePodSandboxRequest remove_pod;
  remove_pod.set_pod_sandbox_id(kUnknownId);
  v1::RemovePodSandboxResponse remove_pod_response;
  status = runtime().RemovePodSandbox(NewClientContext().get(), remove_pod, &remove_pod_response);
  EXPECT_TRUE(status.ok()) << "RemovePodSandbox: " << status.error_message();

  v1::StopContainerRequest stop;
  stop.set_container_id(kUnknownId);
  stop.set_timeout(1);
  v1::StopContainerResponse stop_response;
  status = runtime().StopContainer(NewClientContext().get(), stop, &stop_response);
  EXPECT_TRUE(status.ok()) << "StopContainer: " << status.error_message();

  v1::RemoveContainerRequest remove;
  remove.set_container_id(kUnknownId);
  v1::RemoveContainerResponse remove_response;
  status = runtime().RemoveContainer(NewClientContext().get(), remove, &remove_response);
  EXPECT_TRUE(status.ok()) << "RemoveContainer: " << status.error_message();
}

TEST_F(CriErrorsTest, UnparsableReferenceIsInvalid) {
  const std::string reference = "Not A/Valid::Reference";
  ExpectError("bad_reference", Pull(reference).status(), absl::StatusCode::kInvalidArgument,
              {reference});
  EXPECT_EQ(ImageCount(), 0);
}

TEST_F(CriErrorsTest, DownRegistryIsUnavailable) {
  absl::StatusOr<int> port = FreeLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  std::string host = absl::StrCat("127.0.0.1:", *port);
  steady_clock::time_point start = steady_clock::now();
  absl::Status pulled = Pull(host + "/e2e/busybox:latest").status();
  Report("pull_from_down_registry_ms", std::to_string(MillisSince(start)));
  ExpectError("down_registry", pulled, absl::StatusCode::kUnavailable, {host});
  EXPECT_EQ(ImageCount(), 0);
}

TEST_F(CriErrorsTest, WrongBlobDigestIsDataLoss) {
  absl::StatusOr<TestImage> busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok()) << busybox.status();
  ASSERT_TRUE(registry().PushImage("e2e/corrupt", "latest", *busybox).ok());

  // Same length, different bytes: only the digest check can tell.
  const TestBlob& layer = busybox->layers.front().blob;
  std::string bytes = layer.data;
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16 && i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  }
  ASSERT_TRUE(WriteFile(registry().BlobDataPath(layer.digest), bytes).ok());

  absl::Status pulled = Pull(absl::StrCat(registry().host(), "/e2e/corrupt:latest")).status();
  ExpectError("corrupt_blob_pull", pulled, absl::StatusCode::kDataLoss, {layer.digest});
  EXPECT_EQ(ImageCount(), 0);
}

TEST_F(CriErrorsTest, IndexWithoutAmd64IsNotFound) {
  std::vector<IndexEntry> entries;
  for (const char* architecture : {"arm64", "s390x"}) {
    TestImageConfig config;
    config.architecture = architecture;
    absl::StatusOr<TestImage> image = BusyboxImage(config);
    ASSERT_TRUE(image.ok()) << image.status();
    ASSERT_TRUE(registry().PushImage("e2e/foreign", image->manifest.digest, *image).ok());
    entries.push_back({image->manifest, "linux", architecture, ""});
  }
  TestBlob index = BuildIndex(entries);
  ASSERT_TRUE(registry().PushManifest("e2e/foreign", "latest", index).ok());

  absl::Status pulled = Pull(absl::StrCat(registry().host(), "/e2e/foreign:latest")).status();
  ExpectError("foreign_index_pull", pulled, absl::StatusCode::kNotFound,
              {"linux/arm64", "linux/s390x"});
  EXPECT_EQ(ImageCount(), 0);
}

TEST_F(CriErrorsTest, MissingBinaryFailsCreateCleanly) {
  ASSERT_NO_FATAL_FAILURE(RunPodWithImage());
  std::vector<std::string> cgroups_before = CgroupChildren();
  std::vector<pid_t> shims_before = ProcessesMentioning(JoinPath(daemon().state(), "shims/"));

  absl::StatusOr<std::string> created =
      CreateContainer(pod_id_, ContainerConfig("missing", {"/no/such/binary"}), pod_);
  if (created.ok()) {
    // Report what the daemon does instead, then fail.
    v1::StartContainerRequest start;
    start.set_container_id(*created);
    v1::StartContainerResponse response;
    absl::Status started = FromGrpc(runtime().StartContainer(
        NewClientContext(std::chrono::seconds(30)).get(), start, &response));
    Report("missing_binary_start", started.ToString());
    FAIL() << "CreateContainer of /no/such/binary succeeded; StartContainer then gave: " << started;
  }
  Report("missing_binary_create", created.status().ToString());
  EXPECT_TRUE(absl::StrContains(created.status().message(), "/no/such/binary")) << created.status();

  EXPECT_EQ(ContainerCount(), 0);
  EXPECT_TRUE(ListDir(JoinPath(daemon().root(), "containers")).empty())
      << ListDir(JoinPath(daemon().root(), "containers")).front();
  EXPECT_EQ(CgroupChildren(), cgroups_before);
  EXPECT_EQ(ProcessesMentioning(JoinPath(daemon().state(), "shims/")), shims_before);
  EXPECT_EQ(ListDir(JoinPath(daemon().state(), "shims")), std::vector<std::string>{pod_id_});

  // The name is free again: the same config with a real command works.
  absl::StatusOr<std::string> retry =
      CreateContainer(pod_id_, ContainerConfig("missing", {"true"}), pod_);
  EXPECT_TRUE(retry.ok()) << retry.status();
}

TEST_F(CriErrorsTest, DuplicatePodNamesExistingId) {
  absl::StatusOr<std::string> first = RunPod(PodConfig("twin"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::Status second = RunPodRaw(PodConfig("twin"));
  Report("duplicate_pod", second.ToString());
  EXPECT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.message(), *first)) << second;
  EXPECT_EQ(PodCount(), 1);
  EXPECT_EQ(ListDir(JoinPath(daemon().root(), "sandboxes")).size(), 1u);
  EXPECT_EQ(ListDir(JoinPath(daemon().state(), "netns")).size(), 1u);
}

TEST_F(CriErrorsTest, DuplicateContainerNamesExistingId) {
  ASSERT_NO_FATAL_FAILURE(RunPodWithImage());
  absl::StatusOr<std::string> first =
      CreateContainer(pod_id_, ContainerConfig("twin", {"sleep", "3600"}), pod_);
  ASSERT_TRUE(first.ok()) << first.status();
  if (absl::StatusOr<pid_t> pid = ContainerPid(*first); pid.ok() && *pid > 0) Track(*pid);
  std::vector<std::string> cgroups_before = CgroupChildren();

  absl::Status second =
      CreateContainer(pod_id_, ContainerConfig("twin", {"sleep", "3600"}), pod_).status();
  Report("duplicate_container", second.ToString());
  EXPECT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.message(), *first)) << second;
  EXPECT_EQ(ContainerCount(), 1);
  EXPECT_EQ(ListDir(JoinPath(daemon().root(), "containers")), std::vector<std::string>{*first});
  EXPECT_EQ(CgroupChildren(), cgroups_before);
}

}  // namespace
}  // namespace berth::e2e
