#include "e2e/support/cri_fixture.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/id.h"
#include "base/status.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kPollInterval(50);

// Time allowed for processes killed by ForceCleanup to leave their cgroups.
constexpr milliseconds kForceCleanupWait(3000);

// Lines of the daemon's log printed after a failed test.
constexpr size_t kLogLinesOnFailure = 150;

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
constexpr const char* kImageRepo = "e2e/busybox";
constexpr const char* kImageTag = "latest";

size_t CollectDigestHeader(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  constexpr char kName[] = "docker-content-digest:";
  if (absl::AsciiStrToLower(line).rfind(kName, 0) == 0) {
    *static_cast<std::string*>(user) =
        std::string(absl::StripAsciiWhitespace(line.substr(sizeof(kName) - 1)));
  }
  return size * count;
}

// Asks the registry, with HEAD, for the digest of the manifest at `url`.
absl::StatusOr<std::string> ManifestDigest(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  std::string digest;
  curl_slist* headers = curl_slist_append(nullptr,
                                          "Accept: application/vnd.oci.image.manifest.v1+json, "
                                          "application/vnd.docker.distribution.manifest.v2+json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectDigestHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &digest);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("HEAD ", url, ": ", curl_easy_strerror(code)));
  }
  if (http_status != 200 || digest.empty()) {
    return absl::InternalError(
        absl::StrCat("HEAD ", url, " gave HTTP ", http_status, " and digest \"", digest, "\""));
  }
  return digest;
}

// Returns the "pid" field of the JSON in info["info"] of a verbose status response.
absl::StatusOr<pid_t> PidOfInfo(const google::protobuf::Map<std::string, std::string>& info) {
  auto it = info.find("info");
  if (it == info.end()) return absl::NotFoundError("verbose status has no info[\"info\"]");
  nlohmann::json json = nlohmann::json::parse(it->second, nullptr, false);
  if (!json.is_object() || !json.contains("pid") || !json["pid"].is_number_integer()) {
    return absl::InternalError(absl::StrCat("info has no integer \"pid\": ", it->second));
  }
  return json["pid"].get<pid_t>();
}

std::string LastLines(const std::string& text, size_t count) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - count);
  return absl::StrJoin(lines, "\n");
}

// Returns the sub-folders of `dir`, deepest first, and `dir` itself last.
std::vector<std::string> TreeDeepestFirst(const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& name : ListDir(dir)) {
    std::string child = JoinPath(dir, name);
    DIR* handle = ::opendir(child.c_str());
    if (handle == nullptr) continue;
    ::closedir(handle);
    std::vector<std::string> below = TreeDeepestFirst(child);
    out.insert(out.end(), below.begin(), below.end());
  }
  out.push_back(dir);
  return out;
}

std::vector<pid_t> PidsInCgroup(const std::string& dir) {
  std::vector<pid_t> pids;
  std::ifstream procs(JoinPath(dir, "cgroup.procs"));
  pid_t pid = 0;
  while (procs >> pid) pids.push_back(pid);
  return pids;
}

}  // namespace

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<TrackedProcess> TrackProcess(pid_t pid) {
  std::string path = absl::StrCat("/proc/", pid, "/stat");
  absl::StatusOr<std::string> stat = ReadFile(path);
  if (!stat.ok()) return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  // The command name in parentheses may contain spaces, so fields are counted after its ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) {
    return absl::InternalError(absl::StrCat("unexpected format of ", path));
  }
  std::vector<std::string> fields = absl::StrSplit(stat->substr(close + 2), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
  TrackedProcess process{pid, 0};
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &process.start_time)) {
    return absl::InternalError(absl::StrCat("unexpected format of ", path));
  }
  if (fields[0] == "Z" || fields[0] == "X") {
    return absl::NotFoundError(absl::StrCat("process ", pid, " is a zombie"));
  }
  return process;
}

bool IsAlive(const TrackedProcess& process) {
  absl::StatusOr<TrackedProcess> now = TrackProcess(process.pid);
  return now.ok() && now->start_time == process.start_time;
}

absl::StatusOr<std::string> NamespaceOf(pid_t pid, const std::string& name) {
  std::string path = absl::StrCat("/proc/", pid, "/ns/", name);
  char buffer[256];
  ssize_t n = ::readlink(path.c_str(), buffer, sizeof(buffer) - 1);
  if (n < 0) return ErrnoError(errno, "readlink", path);
  return std::string(buffer, static_cast<size_t>(n));
}

std::string CommandLineOf(pid_t pid) {
  absl::StatusOr<std::string> cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
  if (!cmdline.ok()) return "";
  std::string text = *cmdline;
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> pids;
  pid_t self = ::getpid();
  for (const std::string& name : ListDir("/proc")) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(name, &pid) || pid == self) continue;
    if (CommandLineOf(pid).find(needle) != std::string::npos) pids.push_back(pid);
  }
  return pids;
}

std::vector<std::string> MountsBelow(const std::string& dir) {
  std::vector<std::string> mounts;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5) continue;
    // Test folders contain no spaces, so the octal escapes of mountinfo need no undoing here.
    const std::string& point = fields[4];
    if (point == dir || point.rfind(dir + "/", 0) == 0) mounts.push_back(point);
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return mounts;
}

std::vector<std::string> CgroupDirsOf(const std::string& cgroup) {
  std::vector<std::string> dirs;
  for (const std::string& hierarchy : ListDir(kCgroupRoot)) {
    std::string dir = absl::StrCat(kCgroupRoot, "/", hierarchy, cgroup);
    if (PathExists(dir)) dirs.push_back(dir);
  }
  return dirs;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (struct dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());
  return names;
}

int64_t MillisSince(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

void Report(const std::string& key, const std::string& value) {
  std::fprintf(stderr, "[ REPORT   ] %s: %s\n", key.c_str(), value.c_str());
  ::testing::Test::RecordProperty(key, value);
}

void CriTest::SetUp() {
  char dir_template[] = "/tmp/berth-cri-e2e.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr) << "mkdtemp: " << std::strerror(errno);
  temp_dir_ = dir_template;
  log_dir_ = JoinPath(temp_dir_, "logs");
  cgroup_parent_ = "/berth-e2e-" + NewId().substr(0, 12);
  ASSERT_TRUE(CgroupDirsOf(cgroup_parent_).empty()) << cgroup_parent_ << " exists already";

  absl::StatusOr<std::unique_ptr<TestRegistry>> registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  registry_ = *std::move(registry);
  absl::StatusOr<TestImage> busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok()) << busybox.status();
  absl::Status pushed = registry_->PushImage(kImageRepo, kImageTag, *busybox);
  ASSERT_TRUE(pushed.ok()) << pushed;
  image_ = absl::StrCat(registry_->host(), "/", kImageRepo, ":", kImageTag);
  absl::StatusOr<std::string> digest = ManifestDigest(
      absl::StrCat("http://", registry_->host(), "/v2/", kImageRepo, "/manifests/", kImageTag));
  ASSERT_TRUE(digest.ok()) << digest.status();
  manifest_digest_ = *digest;

  absl::StatusOr<std::unique_ptr<TestDaemon>> daemon = TestDaemon::Start(DaemonOptions());
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  daemon_ = *std::move(daemon);
}

void CriTest::TearDown() {
  if (daemon_ && daemon_->pid() > 0) RemoveEverything();

  std::vector<std::string> leftovers = Leftovers();
  EXPECT_TRUE(leftovers.empty()) << "left behind by the test:\n" << absl::StrJoin(leftovers, "\n");
  if (!leftovers.empty() || HasFailure()) ForceCleanup();

  if (daemon_) {
    (void)daemon_->Stop();
    if (HasFailure()) {
      std::fprintf(stderr, "berthd log (last %zu lines):\n%s\n", kLogLinesOnFailure,
                   LastLines(daemon_->ReadLog(), kLogLinesOnFailure).c_str());
    }
  }
  daemon_.reset();
  registry_.reset();
  if (!temp_dir_.empty()) {
    for (const std::string& mount : MountsBelow(temp_dir_)) ::umount2(mount.c_str(), MNT_DETACH);
    if (MountsBelow(temp_dir_).empty()) (void)RemoveAll(temp_dir_);
  }
}

void CriTest::RemoveEverything() {
  v1::ListContainersResponse containers;
  grpc::Status listed =
      runtime().ListContainers(NewClientContext().get(), v1::ListContainersRequest(), &containers);
  EXPECT_TRUE(listed.ok()) << "ListContainers: " << listed.error_message();
  for (const v1::Container& container : containers.containers()) {
    v1::RemoveContainerRequest request;
    request.set_container_id(container.id());
    v1::RemoveContainerResponse response;
    grpc::Status removed = runtime().RemoveContainer(
        NewClientContext(std::chrono::seconds(30)).get(), request, &response);
    EXPECT_TRUE(removed.ok()) << "RemoveContainer " << container.id() << ": "
                              << removed.error_message();
  }

  v1::ListPodSandboxResponse pods;
  listed = runtime().ListPodSandbox(NewClientContext().get(), v1::ListPodSandboxRequest(), &pods);
  EXPECT_TRUE(listed.ok()) << "ListPodSandbox: " << listed.error_message();
  for (const v1::PodSandbox& pod : pods.items()) {
    v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(pod.id());
    v1::RemovePodSandboxResponse response;
    grpc::Status removed = runtime().RemovePodSandbox(
        NewClientContext(std::chrono::seconds(30)).get(), request, &response);
    EXPECT_TRUE(removed.ok()) << "RemovePodSandbox " << pod.id() << ": " << removed.error_message();
  }
}

std::vector<std::string> CriTest::Leftovers() {
  std::vector<std::string> found;
  std::vector<std::string> dirs = {temp_dir_};
  if (daemon_) {
    dirs.push_back(daemon_->root());
    dirs.push_back(daemon_->state());
  }
  for (const std::string& dir : dirs) {
    for (const std::string& mount : MountsBelow(dir)) found.push_back("mount " + mount);
  }
  if (daemon_) {
    std::string netns_dir = JoinPath(daemon_->state(), "netns");
    for (const std::string& name : ListDir(netns_dir)) {
      found.push_back("netns pin " + JoinPath(netns_dir, name));
    }
    for (pid_t pid : ProcessesMentioning(JoinPath(daemon_->state(), "shims/"))) {
      found.push_back(absl::StrCat("shim pid ", pid, ": ", CommandLineOf(pid)));
    }
  }
  for (const std::string& dir : CgroupDirsOf(cgroup_parent_)) {
    for (const std::string& sub : TreeDeepestFirst(dir)) found.push_back("cgroup " + sub);
  }
  for (const TrackedProcess& process : tracked_) {
    if (IsAlive(process)) {
      found.push_back(absl::StrCat("process ", process.pid, ": ", CommandLineOf(process.pid)));
    }
  }
  return found;
}

void CriTest::ForceCleanup() {
  std::vector<pid_t> victims;
  for (const std::string& dir : CgroupDirsOf(cgroup_parent_)) {
    for (const std::string& sub : TreeDeepestFirst(dir)) {
      std::vector<pid_t> pids = PidsInCgroup(sub);
      victims.insert(victims.end(), pids.begin(), pids.end());
    }
  }
  for (const TrackedProcess& process : tracked_) {
    if (IsAlive(process)) victims.push_back(process.pid);
  }
  if (daemon_) {
    std::vector<pid_t> shims = ProcessesMentioning(JoinPath(daemon_->state(), "shims/"));
    victims.insert(victims.end(), shims.begin(), shims.end());
  }
  std::sort(victims.begin(), victims.end());
  victims.erase(std::unique(victims.begin(), victims.end()), victims.end());
  for (pid_t pid : victims) {
    std::fprintf(stderr, "cleanup: killing pid %d (%s)\n", pid, CommandLineOf(pid).c_str());
    ::kill(pid, SIGKILL);
  }

  // A cgroup folder can only be removed once its processes are gone.
  steady_clock::time_point start = steady_clock::now();
  for (const std::string& dir : CgroupDirsOf(cgroup_parent_)) {
    for (const std::string& sub : TreeDeepestFirst(dir)) {
      while (::rmdir(sub.c_str()) != 0 && errno == EBUSY &&
             steady_clock::now() - start < kForceCleanupWait) {
        std::this_thread::sleep_for(kPollInterval);
      }
      if (PathExists(sub)) {
        std::fprintf(stderr, "cleanup: could not remove %s: %s\n", sub.c_str(),
                     std::strerror(errno));
      }
    }
  }
  if (daemon_) {
    std::string netns_dir = JoinPath(daemon_->state(), "netns");
    for (const std::string& name : ListDir(netns_dir)) {
      std::string pin = JoinPath(netns_dir, name);
      ::umount2(pin.c_str(), MNT_DETACH);
      ::unlink(pin.c_str());
    }
  }
}

absl::StatusOr<std::string> CriTest::Pull(const std::string& reference) {
  v1::PullImageRequest request;
  request.mutable_image()->set_image(reference.empty() ? image_ : reference);
  v1::PullImageResponse response;
  BERTH_RETURN_IF_ERROR(FromGrpc(
      images().PullImage(NewClientContext(std::chrono::seconds(60)).get(), request, &response)));
  return response.image_ref();
}

v1::PodSandboxConfig CriTest::PodConfig(const std::string& name, const std::string& hostname) {
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_namespace_("e2e");
  config.mutable_metadata()->set_uid(name + "-uid");
  config.mutable_metadata()->set_attempt(0);
  if (!hostname.empty()) config.set_hostname(hostname);
  config.set_log_directory(log_dir_);
  config.mutable_linux()->set_cgroup_parent(cgroup_parent_);
  return config;
}

absl::StatusOr<std::string> CriTest::RunPod(const v1::PodSandboxConfig& config) {
  v1::RunPodSandboxRequest request;
  *request.mutable_config() = config;
  v1::RunPodSandboxResponse response;
  BERTH_RETURN_IF_ERROR(FromGrpc(runtime().RunPodSandbox(
      NewClientContext(std::chrono::seconds(30)).get(), request, &response)));
  BERTH_ASSIGN_OR_RETURN(pid_t pid, PausePid(response.pod_sandbox_id()));
  Track(pid);
  return response.pod_sandbox_id();
}

v1::ContainerConfig CriTest::ContainerConfig(const std::string& name,
                                             const std::vector<std::string>& command) {
  v1::ContainerConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_image()->set_image(image_);
  for (const std::string& arg : command) config.add_command(arg);
  config.set_log_path(name + ".log");
  return config;
}

absl::StatusOr<std::string> CriTest::CreateContainer(const std::string& pod_id,
                                                     const v1::ContainerConfig& config,
                                                     const v1::PodSandboxConfig& pod_config) {
  v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod_id);
  *request.mutable_config() = config;
  *request.mutable_sandbox_config() = pod_config;
  v1::CreateContainerResponse response;
  BERTH_RETURN_IF_ERROR(FromGrpc(runtime().CreateContainer(
      NewClientContext(std::chrono::seconds(30)).get(), request, &response)));
  return response.container_id();
}

absl::StatusOr<std::string> CriTest::StartNewContainer(const std::string& pod_id,
                                                       const v1::ContainerConfig& config,
                                                       const v1::PodSandboxConfig& pod_config) {
  BERTH_ASSIGN_OR_RETURN(std::string id, CreateContainer(pod_id, config, pod_config));
  if (absl::StatusOr<pid_t> pid = ContainerPid(id); pid.ok() && *pid > 0) Track(*pid);
  v1::StartContainerRequest request;
  request.set_container_id(id);
  v1::StartContainerResponse response;
  BERTH_RETURN_IF_ERROR(FromGrpc(runtime().StartContainer(
      NewClientContext(std::chrono::seconds(30)).get(), request, &response)));
  return id;
}

absl::StatusOr<v1::ContainerStatusResponse> CriTest::ContainerStatus(const std::string& id) {
  v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  v1::ContainerStatusResponse response;
  BERTH_RETURN_IF_ERROR(
      FromGrpc(runtime().ContainerStatus(NewClientContext().get(), request, &response)));
  return response;
}

absl::StatusOr<v1::PodSandboxStatusResponse> CriTest::PodStatus(const std::string& id) {
  v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(id);
  request.set_verbose(true);
  v1::PodSandboxStatusResponse response;
  BERTH_RETURN_IF_ERROR(
      FromGrpc(runtime().PodSandboxStatus(NewClientContext().get(), request, &response)));
  return response;
}

absl::StatusOr<pid_t> CriTest::ContainerPid(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(v1::ContainerStatusResponse status, ContainerStatus(id));
  return PidOfInfo(status.info());
}

absl::StatusOr<pid_t> CriTest::PausePid(const std::string& pod_id) {
  BERTH_ASSIGN_OR_RETURN(v1::PodSandboxStatusResponse status, PodStatus(pod_id));
  return PidOfInfo(status.info());
}

absl::StatusOr<v1::ContainerStatus> CriTest::WaitForState(const std::string& id,
                                                          v1::ContainerState state,
                                                          milliseconds timeout) {
  steady_clock::time_point deadline = steady_clock::now() + timeout;
  v1::ContainerState last = v1::CONTAINER_UNKNOWN;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(v1::ContainerStatusResponse response, ContainerStatus(id));
    last = response.status().state();
    if (last == state) return response.status();
    if (steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(
      absl::StrCat("container ", id, " is ", v1::ContainerState_Name(last), ", not ",
                   v1::ContainerState_Name(state), ", after ", timeout.count(), " ms"));
}

absl::StatusOr<std::string> CriTest::WaitForFile(const std::string& path, size_t min_bytes,
                                                 milliseconds timeout) {
  steady_clock::time_point deadline = steady_clock::now() + timeout;
  std::string last;
  while (true) {
    absl::StatusOr<std::string> data = ReadFile(path);
    if (data.ok()) last = *data;
    if (last.size() >= min_bytes) return last;
    if (steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat(path, " contains ", last.size(), " bytes, not ",
                                                  min_bytes, ", after ", timeout.count(), " ms: \"",
                                                  last, "\""));
}

absl::StatusOr<v1::ExecSyncResponse> CriTest::ExecSync(const std::string& id,
                                                       const std::vector<std::string>& cmd,
                                                       int64_t timeout_seconds,
                                                       std::chrono::seconds deadline) {
  v1::ExecSyncRequest request;
  request.set_container_id(id);
  for (const std::string& arg : cmd) request.add_cmd(arg);
  request.set_timeout(timeout_seconds);
  v1::ExecSyncResponse response;
  BERTH_RETURN_IF_ERROR(
      FromGrpc(runtime().ExecSync(NewClientContext(deadline).get(), request, &response)));
  return response;
}

void CriTest::Track(pid_t pid) {
  absl::StatusOr<TrackedProcess> process = TrackProcess(pid);
  if (process.ok()) tracked_.push_back(*process);
}

}  // namespace berth::e2e
