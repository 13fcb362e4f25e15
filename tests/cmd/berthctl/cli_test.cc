// Runs berthctl verbs against a fake CRI server on a private unix socket and checks what they
// print, what they send and the exit status.
#include "cmd/berthctl/cli.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/file.h"
#include "runtime/v1/api.grpc.pb.h"

namespace berth::ctl {
namespace {

namespace v1 = runtime::v1;

constexpr int64_t kSecond = 1000000000;

// Canned responses for the RPCs berthctl uses, and a record of every request.
class FakeRuntime final : public v1::RuntimeService::Service {
 public:
  grpc::Status RunPodSandbox(grpc::ServerContext*, const v1::RunPodSandboxRequest* request,
                             v1::RunPodSandboxResponse* response) override {
    Record("RunPodSandbox " + request->config().metadata().name());
    last_run_pod = *request;
    response->set_pod_sandbox_id("pod-new");
    return grpc::Status::OK;
  }
  grpc::Status StopPodSandbox(grpc::ServerContext*, const v1::StopPodSandboxRequest* request,
                              v1::StopPodSandboxResponse*) override {
    Record("StopPodSandbox " + request->pod_sandbox_id());
    return grpc::Status::OK;
  }
  grpc::Status RemovePodSandbox(grpc::ServerContext*, const v1::RemovePodSandboxRequest* request,
                                v1::RemovePodSandboxResponse*) override {
    Record("RemovePodSandbox " + request->pod_sandbox_id());
    return grpc::Status::OK;
  }
  grpc::Status PodSandboxStatus(grpc::ServerContext*, const v1::PodSandboxStatusRequest* request,
                                v1::PodSandboxStatusResponse* response) override {
    for (const auto& pod : pods.items()) {
      if (pod.id() != request->pod_sandbox_id()) continue;
      response->mutable_status()->set_id(pod.id());
      response->mutable_status()->set_state(pod.state());
      (*response->mutable_info())["info"] = R"({"pid": 4242})";
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "pod sandbox \"" + request->pod_sandbox_id() + "\" not found");
  }
  grpc::Status ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest*,
                              v1::ListPodSandboxResponse* response) override {
    std::this_thread::sleep_for(list_pods_delay);
    *response = pods;
    return grpc::Status::OK;
  }
  grpc::Status CreateContainer(grpc::ServerContext*, const v1::CreateContainerRequest* request,
                               v1::CreateContainerResponse* response) override {
    Record("CreateContainer " + request->pod_sandbox_id() + " " +
           request->config().metadata().name());
    if (!create_error.ok()) return create_error;
    response->set_container_id("ctr-new");
    return grpc::Status::OK;
  }
  grpc::Status StartContainer(grpc::ServerContext*, const v1::StartContainerRequest* request,
                              v1::StartContainerResponse*) override {
    Record("StartContainer " + request->container_id());
    return grpc::Status::OK;
  }
  grpc::Status StopContainer(grpc::ServerContext*, const v1::StopContainerRequest* request,
                             v1::StopContainerResponse*) override {
    Record("StopContainer " + request->container_id() + " " + std::to_string(request->timeout()));
    return grpc::Status::OK;
  }
  grpc::Status RemoveContainer(grpc::ServerContext*, const v1::RemoveContainerRequest* request,
                               v1::RemoveContainerResponse*) override {
    Record("RemoveContainer " + request->container_id());
    return grpc::Status::OK;
  }
  grpc::Status ListContainers(grpc::ServerContext*, const v1::ListContainersRequest* request,
                              v1::ListContainersResponse* response) override {
    std::lock_guard lock(mu);
    last_list_containers = *request;
    *response = containers;
    return grpc::Status::OK;
  }
  grpc::Status ContainerStatus(grpc::ServerContext*, const v1::ContainerStatusRequest* request,
                               v1::ContainerStatusResponse* response) override {
    std::lock_guard lock(mu);
    auto found = container_status.find(request->container_id());
    if (found == container_status.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "container \"" + request->container_id() + "\" not found");
    }
    *response->mutable_status() = found->second;
    if (request->verbose()) (*response->mutable_info())["info"] = R"({"pid": 7})";
    return grpc::Status::OK;
  }
  grpc::Status ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* request,
                        v1::ExecSyncResponse* response) override {
    std::string command;
    for (const std::string& word : request->cmd()) command += " " + word;
    Record("ExecSync " + request->container_id() + command + " timeout=" +
           std::to_string(request->timeout()));
    if (request->timeout() == 1) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "command timed out after 1s");
    }
    response->set_stdout("out text\n");
    response->set_stderr("err text\n");
    response->set_exit_code(3);
    return grpc::Status::OK;
  }

  std::vector<std::string> Calls() {
    std::lock_guard lock(mu);
    return calls;
  }

  std::mutex mu;
  std::vector<std::string> calls;
  v1::ListPodSandboxResponse pods;
  v1::ListContainersResponse containers;
  v1::ListContainersRequest last_list_containers;
  v1::RunPodSandboxRequest last_run_pod;
  std::map<std::string, v1::ContainerStatus> container_status;
  grpc::Status create_error = grpc::Status::OK;
  std::chrono::milliseconds list_pods_delay{0};

 private:
  void Record(std::string call) {
    std::lock_guard lock(mu);
    calls.push_back(std::move(call));
  }
};

class FakeImages final : public v1::ImageService::Service {
 public:
  grpc::Status ListImages(grpc::ServerContext*, const v1::ListImagesRequest*,
                          v1::ListImagesResponse* response) override {
    *response = images;
    return grpc::Status::OK;
  }
  grpc::Status ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest* request,
                           v1::ImageStatusResponse* response) override {
    for (const auto& image : images.images()) {
      for (const std::string& tag : image.repo_tags()) {
        if (tag == request->image().image()) *response->mutable_image() = image;
      }
    }
    return grpc::Status::OK;
  }
  grpc::Status PullImage(grpc::ServerContext*, const v1::PullImageRequest* request,
                         v1::PullImageResponse* response) override {
    std::lock_guard lock(mu);
    pulls.push_back(request->image().image() + " user=" + request->auth().username());
    response->set_image_ref("sha256:" + std::string(64, 'e'));
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<std::string> pulls;
  v1::ListImagesResponse images;
};

// What one berthctl run printed and returned.
struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berthctl-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    socket_ = JoinPath(dir_, "cri.sock");

    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix://" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&runtime_);
    builder.RegisterService(&images_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    server_->Shutdown();
    ASSERT_TRUE(RemoveAll(dir_).ok());
  }

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

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = JoinPath(dir_, name);
    EXPECT_TRUE(WriteFile(path, text).ok());
    return path;
  }

  v1::PodSandbox* AddPod(const std::string& id, const std::string& name, int64_t age_seconds) {
    v1::PodSandbox* pod = runtime_.pods.add_items();
    pod->set_id(id);
    pod->mutable_metadata()->set_name(name);
    pod->mutable_metadata()->set_namespace_("default");
    pod->set_created_at(NowNanos() - age_seconds * kSecond);
    return pod;
  }

  std::string dir_;
  std::string socket_;
  FakeRuntime runtime_;
  FakeImages images_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(CliTest, PodsListsNewestFirst) {
  AddPod(std::string(64, 'a'), "old-pod", 3600);
  AddPod(std::string(64, 'b'), "new-pod", 10);

  Result result = Run({"pods"});
  ASSERT_EQ(result.status, 0) << result.err;
  const size_t header = result.out.find("POD ID");
  const size_t newer = result.out.find(std::string(13, 'b') + "   ");
  const size_t older = result.out.find(std::string(13, 'a') + "   ");
  EXPECT_EQ(header, 0u) << result.out;
  EXPECT_LT(newer, older) << result.out;
  EXPECT_NE(result.out.find("About an hour ago"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("(default)\n"), std::string::npos) << result.out;

  result = Run({"pods", "-q", "--name", "^new"});
  ASSERT_EQ(result.status, 0);
  EXPECT_EQ(result.out, std::string(64, 'b') + "\n");
}

TEST_F(CliTest, PodsJsonUsesJsonNames) {
  AddPod("p1", "web", 5);
  Result result = Run({"pods", "-o", "json"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("\"items\": ["), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\"createdAt\": \""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\"state\": \"SANDBOX_READY\""), std::string::npos) << result.out;
}

TEST_F(CliTest, PsShowsRunningOnlyWithoutAll) {
  AddPod("pod-1", "web", 100);
  v1::Container* container = runtime_.containers.add_containers();
  container->set_id("c1");
  container->set_pod_sandbox_id("pod-1");
  container->mutable_metadata()->set_name("app");
  container->mutable_image()->set_image("busybox:latest");
  container->set_state(v1::CONTAINER_RUNNING);

  Result result = Run({"ps"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(runtime_.last_list_containers.filter().state().state(), v1::CONTAINER_RUNNING);
  EXPECT_TRUE(runtime_.last_list_containers.filter().has_state());
  EXPECT_NE(result.out.find("busybox:latest"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Running"), std::string::npos) << result.out;
  EXPECT_TRUE(result.out.ends_with("pod-1" + std::string(15, ' ') + "web\n")) << result.out;

  result = Run({"ps", "-a", "--label", "app=x", "--pod", "pod-1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_FALSE(runtime_.last_list_containers.filter().has_state());
  EXPECT_EQ(runtime_.last_list_containers.filter().pod_sandbox_id(), "pod-1");
  EXPECT_EQ(runtime_.last_list_containers.filter().label_selector().at("app"), "x");
}

TEST_F(CliTest, ImagesListsOneRowPerTag) {
  v1::Image* image = images_.images.add_images();
  image->set_id("sha256:" + std::string(64, 'd'));
  image->add_repo_tags("docker.io/library/busybox:latest");
  image->set_size(1458000);

  Result result = Run({"images"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("docker.io/library/busybox   latest"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(std::string(13, 'd') + std::string(7, ' ') + "1.46MB\n"),
            std::string::npos)
      << result.out;

  result = Run({"images", "-q"});
  EXPECT_EQ(result.out, "sha256:" + std::string(64, 'd') + "\n");
}

TEST_F(CliTest, RunpSendsTheLoadedConfig) {
  const std::string config = Write("pod.yaml", "metadata: {name: web, attempt: 2}\n");
  Result result = Run({"runp", "--runtime", "fast", config});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "pod-new\n");
  EXPECT_EQ(runtime_.last_run_pod.config().metadata().attempt(), 2u);
  EXPECT_EQ(runtime_.last_run_pod.runtime_handler(), "fast");
}

TEST_F(CliTest, RunRemovesPodWhenCreateFails) {
  const std::string pod = Write("pod.json", R"({"metadata": {"name": "web"}})");
  const std::string container =
      Write("c.yaml", "metadata: {name: app}\nimage: {image: busybox:latest}\n");
  runtime_.create_error = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad mount");

  Result result = Run({"run", container, pod});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("berthctl: run: INVALID_ARGUMENT: create container: bad mount"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("removed pod pod-new"), std::string::npos) << result.err;
  EXPECT_EQ(runtime_.Calls(),
            (std::vector<std::string>{"RunPodSandbox web", "CreateContainer pod-new app",
                                      "StopPodSandbox pod-new", "RemovePodSandbox pod-new"}));
  // The image was missing, so it was pulled first.
  EXPECT_EQ(images_.pulls, (std::vector<std::string>{"busybox:latest user="}));
}

TEST_F(CliTest, RunStartsTheContainer) {
  const std::string pod = Write("pod.json", R"({"metadata": {"name": "web"}})");
  const std::string container =
      Write("c.yaml", "metadata: {name: app}\nimage: {image: busybox:latest}\n");
  Result result = Run({"run", "--creds", "me:secret", container, pod});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "ctr-new\n");
  EXPECT_EQ(runtime_.Calls().back(), "StartContainer ctr-new");
  EXPECT_EQ(images_.pulls, (std::vector<std::string>{"busybox:latest user=me"}));
}

TEST_F(CliTest, RmRejectsRunningWithoutForce) {
  runtime_.container_status["c1"].set_state(v1::CONTAINER_RUNNING);
  Result result = Run({"rm", "c1"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("berthctl: rm: FAILED_PRECONDITION: container c1 is running"),
            std::string::npos)
      << result.err;
  EXPECT_TRUE(runtime_.Calls().empty());

  result = Run({"rm", "-f", "c1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "c1\n");
  EXPECT_EQ(runtime_.Calls(),
            (std::vector<std::string>{"StopContainer c1 0", "RemoveContainer c1"}));
}

TEST_F(CliTest, RmContinuesAfterFailure) {
  runtime_.container_status["c1"].set_state(v1::CONTAINER_EXITED);
  Result result = Run({"rm", "missing", "c1"});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.out, "c1\n");
  EXPECT_NE(result.err.find("berthctl: rm: NOT_FOUND: container \"missing\" not found"),
            std::string::npos)
      << result.err;
}

TEST_F(CliTest, InspectEmbedsInfoJson) {
  runtime_.container_status["c1"].set_id("c1");
  Result result = Run({"inspect", "c1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("\"status\": {\n    \"id\": \"c1\""), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("\"info\": {\n    \"info\": {\n      \"pid\": 7"), std::string::npos)
      << result.out;
}

TEST_F(CliTest, ExecSyncPassesExitCode) {
  Result result = Run({"exec", "-s", "--timeout", "5", "c1", "ls", "-l", "/"});
  EXPECT_EQ(result.status, 3);
  EXPECT_EQ(result.out, "out text\n");
  EXPECT_EQ(result.err, "err text\n");
  EXPECT_EQ(runtime_.Calls(), (std::vector<std::string>{"ExecSync c1 ls -l / timeout=5"}));
}

TEST_F(CliTest, TimeoutHintOnlyForClientDeadline) {
  runtime_.list_pods_delay = std::chrono::milliseconds(500);
  Result result = Run({"--timeout", "100ms", "pods"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("berthctl: pods: DEADLINE_EXCEEDED: "), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("(no response within 100ms; raise --timeout"), std::string::npos)
      << result.err;

  result = Run({"exec", "-s", "--timeout", "1", "c1", "sleep", "5"});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.err, "berthctl: exec: DEADLINE_EXCEEDED: command timed out after 1s\n");
}

TEST_F(CliTest, ExecWithoutSyncSuggestsSync) {
  Result result = Run({"exec", "c1", "ls"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("berthctl: exec: UNIMPLEMENTED: interactive exec is not available"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("--sync"), std::string::npos);
}

TEST_F(CliTest, LogsSplitsStreamsAndJoinsPartials) {
  const std::string log = Write("c1.log",
                                "2024-01-01T00:00:00.000000001Z stdout F one\n"
                                "2024-01-01T00:00:01.000000001Z stderr F problem\n"
                                "2024-01-01T00:00:02.000000001Z stdout P tw\n"
                                "2024-01-01T00:00:03.000000001Z stdout F o\n");
  runtime_.container_status["c1"].set_log_path(log);
  runtime_.container_status["c1"].set_state(v1::CONTAINER_EXITED);

  Result result = Run({"logs", "c1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "one\ntwo\n");
  EXPECT_EQ(result.err, "problem\n");

  result = Run({"logs", "--tail", "1", "-t", "c1"});
  EXPECT_EQ(result.out, "2024-01-01T00:00:02.000000001Z two\n");
  EXPECT_EQ(result.err, "");

  // The container has exited, so following ends after printing what is there.
  result = Run({"logs", "-f", "--tail=2", "c1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "two\n");
  EXPECT_EQ(result.err, "problem\n");
}

TEST_F(CliTest, LogsFollowsGrowthAndRotation) {
  const std::string log = Write("c1.log", "2024-01-01T00:00:00Z stdout F first\n");
  {
    std::lock_guard lock(runtime_.mu);
    runtime_.container_status["c1"].set_log_path(log);
    runtime_.container_status["c1"].set_state(v1::CONTAINER_RUNNING);
  }

  // While berthctl follows, the log grows (with a line split across two writes), is rotated
  // to c1.log.1 and continued in a new c1.log, and then the container exits.
  std::thread writer([&] {
    const auto append = [&](const std::string& text) {
      std::ofstream(log, std::ios::app) << text << std::flush;
    };
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    append("2024-01-01T00:00:01Z stdout P sec");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    append("ond half\n2024-01-01T00:00:01Z stdout F !\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_EQ(::rename(log.c_str(), (log + ".1").c_str()), 0);
    append("2024-01-01T00:00:02Z stderr F after rotation\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::lock_guard lock(runtime_.mu);
    runtime_.container_status["c1"].set_state(v1::CONTAINER_EXITED);
  });
  Result result = Run({"logs", "-f", "c1"});
  writer.join();

  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "first\nsecond half!\n");
  EXPECT_EQ(result.err, "after rotation\n");
}

TEST_F(CliTest, LogsReportsMissingFile) {
  runtime_.container_status["c1"].set_log_path(JoinPath(dir_, "none.log"));
  Result result = Run({"logs", "c1"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("berthctl: logs: NOT_FOUND: open "), std::string::npos) << result.err;
}

TEST_F(CliTest, UsageErrorsPointToHelp) {
  Result result = Run({"pods", "--bogus"});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.err, "berthctl: pods: unknown flag --bogus\nRun 'berthctl pods --help' for usage.\n");

  result = Run({"frobnicate"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("unknown verb \"frobnicate\""), std::string::npos);

  result = Run({"create", "only-one"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("expected POD-ID CONTAINER-CONFIG POD-CONFIG, got 1 argument(s)"),
            std::string::npos)
      << result.err;
}

TEST_F(CliTest, HelpDescribesEveryVerb) {
  Result result = Run({"--help"});
  EXPECT_EQ(result.status, 0);
  for (const char* verb : {"version", "info", "pull", "images", "inspecti", "rmi", "runp", "pods",
                           "inspectp", "stopp", "rmp", "create", "start", "ps", "inspect", "logs",
                           "exec", "stop", "rm", "run"}) {
    EXPECT_NE(result.out.find(std::string("\n  ") + verb + " "), std::string::npos) << verb;
    Result verb_help = Run({verb, "--help"});
    EXPECT_EQ(verb_help.status, 0) << verb;
    EXPECT_TRUE(verb_help.out.starts_with("Usage: berthctl [GLOBAL FLAGS] " + std::string(verb)))
        << verb_help.out;
  }
}

}  // namespace
}  // namespace berth::ctl
