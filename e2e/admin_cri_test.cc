// Berth's admin service through a real berthd: a pull that streams its progress, and archives
// imported with `berthctl images import` that CRI then lists and runs containers from.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "berth/admin/v1/admin.grpc.pb.h"
#include "e2e/admin_test_archives.h"
#include "e2e/support/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace admin = ::berth::admin::v1;
using std::chrono::milliseconds;

// What one command printed (stdout and stderr together) and its exit status.
struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class AdminCriTest : public CriTest {
 protected:
  std::string Berthctl(const std::string& args) {
    return absl::StrCat(JoinPath(BinaryDir(), "berthctl"), " --runtime-endpoint ",
                        daemon().socket_path(), " ", args);
  }

  void SetUp() override {
    CriTest::SetUp();
    if (HasFatalFailure()) return;
    archive_dir_ = daemon().root() + "-archives";
    ASSERT_TRUE(MakeDirs(archive_dir_, 0700).ok());
  }

  void TearDown() override {
    if (!archive_dir_.empty()) (void)RemoveAll(archive_dir_);
    CriTest::TearDown();
  }

  // Runs a container of `image` that prints a line, and returns its CRI log.
  absl::StatusOr<std::string> RunHello(const std::string& name, const std::string& image) {
    v1::PodSandboxConfig pod = PodConfig(name);
    absl::StatusOr<std::string> pod_id = RunPod(pod);
    if (!pod_id.ok()) return pod_id.status();
    v1::ContainerConfig config = ContainerConfig("hello", {"sh", "-c", "cat /etc/message"});
    config.mutable_image()->set_image(image);
    absl::StatusOr<std::string> id = StartNewContainer(*pod_id, config, pod);
    if (!id.ok()) return id.status();
    absl::StatusOr<v1::ContainerStatus> exited =
        WaitForState(*id, v1::CONTAINER_EXITED, milliseconds(10000));
    if (!exited.ok()) return exited.status();
    return WaitForFile(JoinPath(log_dir(), "hello.log"), 1, milliseconds(5000));
  }

  // An image of the busybox layer and one layer with /etc/message, gzip or plain.
  TestImage MessageImage(bool gzip, const std::string& message) {
    absl::StatusOr<TestLayer> bottom = BusyboxLayer();
    EXPECT_TRUE(bottom.ok()) << bottom.status();
    absl::StatusOr<TestLayer> top =
        LayerBuilder().Dir("etc").File("etc/message", message + "\n").Build(gzip);
    EXPECT_TRUE(top.ok()) << top.status();
    absl::StatusOr<TestImage> image = BuildImage({*bottom, *top}, TestImageConfig{});
    EXPECT_TRUE(image.ok()) << image.status();
    return *image;
  }

  // The images CRI lists with `tag`.
  int ListedWithTag(const std::string& tag, std::string* id) {
    v1::ListImagesResponse listed;
    grpc::Status status = images().ListImages(NewClientContext().get(), {}, &listed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    int count = 0;
    for (const v1::Image& image : listed.images()) {
      for (const std::string& listed_tag : image.repo_tags()) {
        if (listed_tag != tag) continue;
        ++count;
        *id = image.id();
      }
    }
    return count;
  }

  std::string archive_dir_;
};

TEST_F(AdminCriTest, DockerSaveImportRunsLikeAPulledImage) {
  TestImage image = MessageImage(/*gzip=*/false, "from docker save");
  std::string path = JoinPath(archive_dir_, "saved.tar");
  ASSERT_TRUE(
      WriteTar(path, DockerSave(image, {"e2e/saved:1"}, DockerLayout::kLegacyDirs)).ok());

  CommandResult imported = RunCommand(Berthctl("images import " + path));
  ASSERT_EQ(imported.status, 0) << imported.output;
  EXPECT_EQ(imported.output, "Imported image: docker.io/e2e/saved:1\nImported image ID: " +
                                 image.config.digest + "\n");

  std::string id;
  EXPECT_EQ(ListedWithTag("docker.io/e2e/saved:1", &id), 1);
  EXPECT_EQ(id, image.config.digest);
  absl::StatusOr<std::string> log = RunHello("saved", "e2e/saved:1");
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_NE(log->find(" stdout F from docker save\n"), std::string::npos) << *log;
}

TEST_F(AdminCriTest, OciArchiveImportFromStandardInput) {
  TestImage image = MessageImage(/*gzip=*/true, "from an oci archive");
  std::string path = JoinPath(archive_dir_, "oci.tar.gz");
  ASSERT_TRUE(WriteTar(path, OciLayout(image.manifest, {{"", "3.1"}}, ImageBlobs(image)),
                       /*gzip=*/true)
                  .ok());

  CommandResult imported =
      RunCommand(Berthctl("images import --base-name example.com/oci - < " + path));
  ASSERT_EQ(imported.status, 0) << imported.output;
  EXPECT_NE(imported.output.find("Imported image: example.com/oci:3.1\n"), std::string::npos)
      << imported.output;

  std::string id;
  EXPECT_EQ(ListedWithTag("example.com/oci:3.1", &id), 1);
  EXPECT_EQ(id, image.config.digest);
  absl::StatusOr<std::string> log = RunHello("oci", "example.com/oci:3.1");
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_NE(log->find(" stdout F from an oci archive\n"), std::string::npos) << *log;
}

TEST_F(AdminCriTest, BadArchiveIsRefusedAndLeavesNoSpool) {
  std::string path = JoinPath(archive_dir_, "bad.tar");
  ASSERT_TRUE(WriteTar(path, {{"../escape", "x", ""}}).ok());
  CommandResult imported = RunCommand(Berthctl("images import " + path));
  EXPECT_EQ(imported.status, 1);
  EXPECT_NE(imported.output.find("INVALID_ARGUMENT"), std::string::npos) << imported.output;
  EXPECT_TRUE(ListDir(JoinPath(daemon().root(), "import")).empty());
}

TEST_F(AdminCriTest, PullStreamsProgressThenTheImageId) {
  auto stub = admin::Admin::NewStub(daemon().channel());
  admin::PullImageRequest request;
  request.set_image(image());
  auto context = NewClientContext(std::chrono::seconds(60));
  auto reader = stub->PullImage(context.get(), request);
  admin::PullProgress message;
  std::string image_id;
  int layers_done = 0;
  int messages = 0;
  while (reader->Read(&message)) {
    ++messages;
    if (!message.image_id().empty()) image_id = message.image_id();
    for (const admin::BlobProgress& blob : message.blobs()) {
      if (blob.kind() == "layer" && blob.done()) ++layers_done;
      EXPECT_LE(blob.downloaded(), blob.total() == 0 ? blob.downloaded() : blob.total());
    }
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  Report("admin_pull_messages", std::to_string(messages));
  EXPECT_GE(layers_done, 1);

  absl::StatusOr<std::string> cri_ref = Pull();
  ASSERT_TRUE(cri_ref.ok()) << cri_ref.status();
  EXPECT_EQ(image_id, *cri_ref);
}

TEST_F(AdminCriTest, BerthctlPullEndsWithTheImageLine) {
  CommandResult pulled = RunCommand(Berthctl("pull " + image()));
  ASSERT_EQ(pulled.status, 0) << pulled.output;
  absl::StatusOr<std::string> cri_ref = Pull();
  ASSERT_TRUE(cri_ref.ok()) << cri_ref.status();
  EXPECT_TRUE(pulled.output.ends_with("Image is up to date for " + *cri_ref + "\n"))
      << pulled.output;
  EXPECT_NE(pulled.output.find("total    "), std::string::npos) << pulled.output;
}

TEST_F(AdminCriTest, CancelledPullStopsAndTheNextSucceeds) {
  auto stub = admin::Admin::NewStub(daemon().channel());
  admin::PullImageRequest request;
  request.set_image(image());
  grpc::ClientContext context;
  auto reader = stub->PullImage(&context, request);
  context.TryCancel();
  admin::PullProgress message;
  while (reader->Read(&message)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();

  // The daemon is still well and pulls the image afterwards.
  absl::StatusOr<std::string> cri_ref = Pull();
  ASSERT_TRUE(cri_ref.ok()) << cri_ref.status();
}

}  // namespace
}  // namespace berth::e2e
