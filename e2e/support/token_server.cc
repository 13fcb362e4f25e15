#include "e2e/support/token_server.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/status.h"

namespace berth::e2e {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(50);
// bcrypt cost: the lowest docker-registry accepts keeps the test fast.
constexpr unsigned long kBcryptCost = 5;

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& args, const std::string& output) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& arg : copy) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string path_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env.data(), nullptr};

  pid_t pid = -1;
  int err = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return ErrnoError(err, "posix_spawn", args[0]);
  return pid;
}

bool Accepts(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

std::string Tail(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return "(no output)";
  constexpr size_t kTail = 2000;
  return text->size() > kTail ? text->substr(text->size() - kTail) : *text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScriptProcess>> ScriptProcess::Start(
    const std::string& script, std::vector<std::string> args, int port,
    const std::string& output_path) {
  std::vector<std::string> argv = {kPython, script};
  argv.insert(argv.end(), args.begin(), args.end());
  std::unique_ptr<ScriptProcess> process(new ScriptProcess());
  BERTH_ASSIGN_OR_RETURN(process->pid_, Spawn(argv, output_path));

  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int wait_status = 0;
    if (::waitpid(process->pid_, &wait_status, WNOHANG) == process->pid_) {
      process->pid_ = -1;
      return absl::InternalError(
          absl::StrCat(script, " exited during start-up: ", Tail(output_path)));
    }
    if (Accepts(port)) return process;
    std::this_thread::sleep_for(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat(script, " did not listen on 127.0.0.1:", port,
                                                  " within 20 s: ", Tail(output_path)));
}

ScriptProcess::~ScriptProcess() { Stop(); }

void ScriptProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int wait_status = 0;
  ::waitpid(pid_, &wait_status, 0);
  pid_ = -1;
}

absl::Status RunCommand(const std::vector<std::string>& argv) {
  BERTH_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, "/dev/null"));
  int wait_status = 0;
  if (::waitpid(pid, &wait_status, 0) != pid) return ErrnoError(errno, "waitpid", argv[0]);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(absl::StrCat(argv[0], " failed with wait status ", wait_status));
  }
  return absl::OkStatus();
}

absl::StatusOr<SigningKey> MakeSigningKey(const std::string& dir) {
  SigningKey key{JoinPath(dir, "token.key"), JoinPath(dir, "token.crt")};
  BERTH_RETURN_IF_ERROR(RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                    "-nodes", "-keyout", key.key_path, "-out", key.cert_path,
                                    "-subj", "/CN=berth-test-token-issuer", "-days", "2"}));
  return key;
}

absl::StatusOr<SigningKey> MakeServerCertificate(const std::string& dir, const std::string& ip) {
  SigningKey key{JoinPath(dir, "server.key"), JoinPath(dir, "server.crt")};
  BERTH_RETURN_IF_ERROR(RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                    "-nodes", "-keyout", key.key_path, "-out", key.cert_path,
                                    "-subj", absl::StrCat("/CN=", ip), "-addext",
                                    absl::StrCat("subjectAltName=IP:", ip), "-days", "2"}));
  return key;
}

absl::StatusOr<std::string> HtpasswdLine(const std::string& user, const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (::crypt_gensalt_rn("$2b$", kBcryptCost, nullptr, 0, salt, sizeof(salt)) == nullptr) {
    return ErrnoError(errno, "crypt_gensalt_rn", "$2b$");
  }
  crypt_data data{};
  const char* hash = ::crypt_r(password.c_str(), salt, &data);
  if (hash == nullptr || hash[0] == '*') return ErrnoError(errno, "crypt_r", "bcrypt");
  return absl::StrCat(user, ":", hash);
}

std::vector<std::string> GrepLines(const std::string& path, const std::string& needle) {
  std::vector<std::string> lines;
  auto text = ReadFile(path);
  if (!text.ok()) return lines;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.find(needle) != absl::string_view::npos) lines.emplace_back(line);
  }
  return lines;
}

}  // namespace berth::e2e
