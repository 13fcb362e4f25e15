// Runs `berthctl pull` and `berthctl images import` against fake servers on a private unix
// socket: one with Berth's admin service, one with CRI only.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <mutex>

#include "base/file.h"
#include "berth/admin/v1/admin.grpc.pb.h"
#include "cmd/berthctl/cli.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::ctl {
namespace {

namespace v1 = runtime::v1;

const std::string kImageId = "sha256:" + std::string(64, 'e');
const std::string kLayer = "sha256:" + std::string(64, 'a');

class FakeAdmin final : public admin::v1::Admin::Service {
 public:
  grpc::Status PullImage(grpc::ServerContext*, const admin::v1::PullImageRequest* request,
                         grpc::ServerWriter<admin::v1::PullProgress>* writer) override {
    {
      std::lock_guard lock(mu);
      pulls.push_back(request->image() + " user=" + request->credentials().username());
    }
    if (request->image() == "missing") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "image \"missing\" not found");
    }
    for (uint64_t downloaded : {uint64_t{0}, uint64_t{2048}}) {
      admin::v1::PullProgress message;
      admin::v1::BlobProgress* blob = message.add_blobs();
      blob->set_digest(kLayer);
      blob->set_kind("layer");
      blob->set_downloaded(downloaded);
      blob->set_total(2048);
      blob->set_done(downloaded == 2048);
      writer->Write(message);
    }
    admin::v1::PullProgress last;
    last.set_image_id(kImageId);
    writer->Write(last);
    return grpc::Status::OK;
  }

  grpc::Status ImportImage(grpc::ServerContext*, grpc::ServerReader<admin::v1::ImportChunk>* reader,
                           admin::v1::ImportImageResponse* response) override {
    std::lock_guard lock(mu);
    admin::v1::ImportChunk chunk;
    bool first = true;
    while (reader->Read(&chunk)) {
      if (first) base_name = chunk.base_name();
      first = false;
      received += chunk.data();
    }
    admin::v1::ImportedImage* image = response->add_images();
    image->set_id(kImageId);
    image->add_repo_tags("docker.io/library/busybox:latest");
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<std::string> pulls;
  std::string received;
  std::string base_name;
};

class FakeImages final : public v1::ImageService::Service {
 public:
  grpc::Status PullImage(grpc::ServerContext*, const v1::PullImageRequest* request,
                         v1::PullImageResponse* response) override {
    std::lock_guard lock(mu);
    pulls.push_back(request->image().image());
    response->set_image_ref(kImageId);
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<std::string> pulls;
};

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

class AdminVerbsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berthctl-admin-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    socket_ = JoinPath(dir_, "cri.sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix://" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&images_);
    if (with_admin()) builder.RegisterService(&admin_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    server_->Shutdown();
    ASSERT_TRUE(RemoveAll(dir_).ok());
  }

  bool with_admin() const { return GetParam(); }

  Result Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--runtime-endpoint", socket_});
    Result result;
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    result.status = RunCli(args);
    result.out = testing::internal::GetCapturedStdout();
    result.err = testing::internal::GetCapturedStderr();
    return result;
  }

  std::string dir_;
  std::string socket_;
  FakeAdmin admin_;
  FakeImages images_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_P(AdminVerbsTest, PullEndsWithTheImageLine) {
  Result result = Run({"pull", "--creds", "me:secret", "busybox"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(result.out.ends_with("Image is up to date for " + kImageId + "\n")) << result.out;
  if (with_admin()) {
    EXPECT_EQ(admin_.pulls, std::vector<std::string>{"busybox user=me"});
    EXPECT_TRUE(images_.pulls.empty());
    // Not a terminal: plain lines, the finished layer and a total.
    EXPECT_NE(result.out.find("layer    sha256:aaaaaaaaaaaa  done 2.00 KiB\n"), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("total    1/1 blobs  2.00 KiB / 2.00 KiB"), std::string::npos)
        << result.out;
  } else {
    EXPECT_EQ(images_.pulls, std::vector<std::string>{"busybox"});
    EXPECT_EQ(result.out, "Image is up to date for " + kImageId + "\n");
  }
}

TEST_P(AdminVerbsTest, QuietPullPrintsOnlyTheImageLine) {
  Result result = Run({"pull", "-q", "busybox"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "Image is up to date for " + kImageId + "\n");
}

TEST_P(AdminVerbsTest, PullErrorKeepsTheServerCode) {
  Result result = Run({"pull", "missing"});
  if (!with_admin()) {
    // Only a missing admin service leads to the CRI pull, which the fake always answers.
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(images_.pulls, std::vector<std::string>{"missing"});
    return;
  }
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("berthctl: pull: NOT_FOUND: image \"missing\" not found"),
            std::string::npos)
      << result.err;
  EXPECT_TRUE(images_.pulls.empty()) << "no CRI pull after an admin error";
}

TEST_P(AdminVerbsTest, ImportStreamsTheFile) {
  std::string archive(3 << 20, 'x');  // more than one chunk
  archive[0] = 'A';
  std::string path = JoinPath(dir_, "image.tar");
  ASSERT_TRUE(WriteFile(path, archive).ok());
  Result result = Run({"images", "import", "--base-name", "example.com/app", path});
  if (!with_admin()) {
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.err.find("UNIMPLEMENTED: the endpoint has no Berth admin service"),
              std::string::npos)
        << result.err;
    return;
  }
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(admin_.received, archive);
  EXPECT_EQ(admin_.base_name, "example.com/app");
  EXPECT_EQ(result.out, "Imported image: docker.io/library/busybox:latest\nImported image ID: " +
                            kImageId + "\n");
}

TEST_P(AdminVerbsTest, ImportReportsAMissingFile) {
  Result result = Run({"images", "import", JoinPath(dir_, "nope.tar")});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("NOT_FOUND: open "), std::string::npos) << result.err;
}

TEST_P(AdminVerbsTest, ImportHasHelp) {
  Result result = Run({"images", "import", "--help"});
  EXPECT_EQ(result.status, 0);
  EXPECT_TRUE(result.out.starts_with("Usage: berthctl [GLOBAL FLAGS] images import [FLAGS] FILE"))
      << result.out;
}

INSTANTIATE_TEST_SUITE_P(Endpoints, AdminVerbsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Berth" : "CriOnly";
                         });

}  // namespace
}  // namespace berth::ctl
