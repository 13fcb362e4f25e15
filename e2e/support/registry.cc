#include "e2e/support/registry.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/status.h"
#include "image/digest.h"

namespace berth::e2e {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kStopTimeout = std::chrono::seconds(5);
constexpr auto kPollInterval = std::chrono::milliseconds(50);

struct HttpResult {
  long status = 0;
  std::string location;
  std::string body;
};

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t CollectLocation(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  if (absl::StartsWithIgnoreCase(line, "location:")) {
    *static_cast<std::string*>(user) =
        std::string(absl::StripAsciiWhitespace(line.substr(sizeof("location:") - 1)));
  }
  return size * count;
}

// One HTTP request to the test registry. `method` is GET, POST or PUT.
absl::StatusOr<HttpResult> Call(const std::string& method, const std::string& url,
                                const std::string& content_type, const std::string& body) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  HttpResult result;
  struct curl_slist* headers = nullptr;
  if (!content_type.empty()) {
    headers = curl_slist_append(headers, absl::StrCat("Content-Type: ", content_type).c_str());
  }
  std::unique_ptr<struct curl_slist, void (*)(struct curl_slist*)> header_list(
      headers, curl_slist_free_all);

  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, CollectLocation);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &result.location);
  if (method == "POST" || method == "PUT") {
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  }
  CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(method, " ", url, ": ", curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

absl::Status ExpectStatus(const HttpResult& result, long want, const std::string& step) {
  if (result.status == want) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(step, ": HTTP ", result.status, " (expected ", want,
                                          "): ", result.body.substr(0, 500)));
}

absl::StatusOr<std::string> MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = JoinPath(base && *base ? base : "/tmp", "berth-registry-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) return ErrnoError(errno, "mkdtemp", pattern);
  return pattern;
}

}  // namespace

absl::StatusOr<int> FreeLoopbackPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoError(errno, "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoError(errno, "bind", "127.0.0.1:0");
  }
  socklen_t length = sizeof(address);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return ErrnoError(errno, "getsockname");
  }
  return ntohs(address.sin_port);
}

absl::StatusOr<std::unique_ptr<TestRegistry>> TestRegistry::Start(TestRegistryOptions options) {
  std::unique_ptr<TestRegistry> registry(new TestRegistry());
  BERTH_ASSIGN_OR_RETURN(registry->dir_, MakeTempDir());
  registry->storage_dir_ =
      options.storage_dir.empty() ? JoinPath(registry->dir_, "storage") : options.storage_dir;
  registry->extra_config_ = std::move(options.extra_config);
  BERTH_ASSIGN_OR_RETURN(registry->port_, FreeLoopbackPort());
  registry->host_ = absl::StrCat("127.0.0.1:", registry->port_);
  BERTH_RETURN_IF_ERROR(registry->Launch());
  BERTH_RETURN_IF_ERROR(registry->WaitReady());
  return registry;
}

TestRegistry::~TestRegistry() {
  (void)Stop();
  if (!dir_.empty()) (void)RemoveAll(dir_);
}

absl::Status TestRegistry::Launch() {
  std::string config_path = JoinPath(dir_, "config.yml");
  std::string config = absl::StrCat(
      "version: 0.1\n"
      "log:\n"
      "  level: warn\n"
      "  accesslog:\n"
      "    disabled: true\n"
      "storage:\n"
      "  filesystem:\n"
      "    rootdirectory: ", storage_dir_, "\n"
      "  delete:\n"
      "    enabled: true\n"
      "http:\n"
      "  addr: ", host_, "\n", extra_config_);
  BERTH_RETURN_IF_ERROR(WriteFile(config_path, config));

  std::string log_path = JoinPath(dir_, "registry.log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  // A clean environment: REGISTRY_* variables of the caller must not change the config.
  std::vector<std::string> args = {kRegistryBinary, "serve", config_path};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string path_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env.data(), nullptr};

  int err = ::posix_spawn(&pid_, kRegistryBinary, &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    pid_ = -1;
    return ErrnoError(err, "posix_spawn", kRegistryBinary);
  }
  return absl::OkStatus();
}

absl::Status TestRegistry::WaitReady() {
  std::string url = absl::StrCat("http://", host_, "/v2/");
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int wait_status = 0;
    if (::waitpid(pid_, &wait_status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat(kRegistryBinary, " exited during start-up: ", LogTail()));
    }
    auto result = Call("GET", url, "", "");
    // Any HTTP status means it listens: 401 when it requires auth, 400 when it speaks TLS.
    if (result.ok() && result->status > 0) return absl::OkStatus();
    std::this_thread::sleep_for(kPollInterval);
  }
  std::string tail = LogTail();
  (void)Stop();
  return absl::DeadlineExceededError(
      absl::StrCat(kRegistryBinary, " did not answer ", url, " within 20 s: ", tail));
}

std::string TestRegistry::LogTail() const {
  auto log = ReadFile(JoinPath(dir_, "registry.log"));
  if (!log.ok()) return "(no log)";
  constexpr size_t kTail = 2000;
  return log->size() > kTail ? log->substr(log->size() - kTail) : *log;
}

absl::Status TestRegistry::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  pid_t pid = pid_;
  pid_ = -1;
  if (::kill(pid, SIGTERM) != 0 && errno != ESRCH) return ErrnoError(errno, "kill", "registry");

  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int wait_status = 0;
    pid_t done = ::waitpid(pid, &wait_status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) return absl::OkStatus();
    std::this_thread::sleep_for(kPollInterval);
  }
  ::kill(pid, SIGKILL);
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  return absl::OkStatus();
}

absl::Status TestRegistry::PushBlob(const std::string& repo, const TestBlob& blob) {
  std::string base = absl::StrCat("http://", host_);
  BERTH_ASSIGN_OR_RETURN(HttpResult started,
                         Call("POST", absl::StrCat(base, "/v2/", repo, "/blobs/uploads/"), "", ""));
  BERTH_RETURN_IF_ERROR(ExpectStatus(started, 202, absl::StrCat("start upload to ", repo)));
  if (started.location.empty()) {
    return absl::InternalError(absl::StrCat("start upload to ", repo, ": no Location header"));
  }

  std::string url = started.location.front() == '/' ? base + started.location : started.location;
  absl::StrAppend(&url, url.find('?') == std::string::npos ? "?" : "&", "digest=", blob.digest);
  BERTH_ASSIGN_OR_RETURN(HttpResult finished,
                         Call("PUT", url, "application/octet-stream", blob.data));
  return ExpectStatus(finished, 201, absl::StrCat("upload blob ", blob.digest, " to ", repo));
}

absl::Status TestRegistry::PushManifest(const std::string& repo, const std::string& tag_or_digest,
                                        const TestBlob& manifest) {
  std::string url = absl::StrCat("http://", host_, "/v2/", repo, "/manifests/", tag_or_digest);
  BERTH_ASSIGN_OR_RETURN(HttpResult result, Call("PUT", url, manifest.media_type, manifest.data));
  return ExpectStatus(result, 201,
                      absl::StrCat("put manifest ", repo, ":", tag_or_digest));
}

absl::Status TestRegistry::PushImage(const std::string& repo, const std::string& tag,
                                     const TestImage& image) {
  BERTH_RETURN_IF_ERROR(PushBlob(repo, image.config));
  for (const auto& layer : image.layers) BERTH_RETURN_IF_ERROR(PushBlob(repo, layer.blob));
  return PushManifest(repo, tag, image.manifest);
}

std::string TestRegistry::BlobDataPath(const std::string& digest) const {
  std::string hex = image::DigestHex(digest);
  return absl::StrCat(storage_dir_, "/docker/registry/v2/blobs/sha256/", hex.substr(0, 2), "/",
                      hex, "/data");
}

}  // namespace berth::e2e
