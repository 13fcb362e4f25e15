// Helpers for registry auth and fault tests. The python3 scripts beside this file (a token
// server and a faulty proxy) run as child processes on loopback. MakeSigningKey makes an RSA
// key and certificate for signing tokens, and HtpasswdLine a bcrypt line for docker-registry.
//
//   BERTH_ASSIGN_OR_RETURN(auto keys, MakeSigningKey(dir));
//   BERTH_ASSIGN_OR_RETURN(auto server, ScriptProcess::Start(script, {"--port", ...}, port));
//
// Every process is started by the test, bound to 127.0.0.1, and stopped and reaped when its
// ScriptProcess goes away.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::e2e {

inline constexpr const char* kPython = "/usr/bin/python3";

class ScriptProcess {
 public:
  // Runs `python3 script args...` with stdout and stderr appended to `output_path`, then waits
  // (at most 20 s) until 127.0.0.1:`port` accepts connections. On failure the error carries
  // the tail of the output.
  static absl::StatusOr<std::unique_ptr<ScriptProcess>> Start(const std::string& script,
                                                               std::vector<std::string> args,
                                                               int port,
                                                               const std::string& output_path);
  ~ScriptProcess();
  ScriptProcess(const ScriptProcess&) = delete;
  ScriptProcess& operator=(const ScriptProcess&) = delete;

  // Sends SIGKILL to the process and reaps it. Idempotent.
  void Stop();

 private:
  ScriptProcess() = default;
  pid_t pid_ = -1;
};

struct SigningKey {
  std::string key_path;   // PEM RSA private key
  std::string cert_path;  // PEM self-signed certificate of it
};

// Makes a 2048-bit RSA key and a self-signed certificate in `dir` with the openssl command.
absl::StatusOr<SigningKey> MakeSigningKey(const std::string& dir);

// Makes a key and a self-signed server certificate for the IP address `ip` (its subject
// alternative name) in `dir`, as server.key and server.crt.
absl::StatusOr<SigningKey> MakeServerCertificate(const std::string& dir, const std::string& ip);

// "user:<bcrypt hash of password>", a line of an htpasswd file docker-registry accepts.
absl::StatusOr<std::string> HtpasswdLine(const std::string& user, const std::string& password);

// Runs `argv` (argv[0] an absolute path) and waits for it; InternalError unless it exits 0.
absl::Status RunCommand(const std::vector<std::string>& argv);

// The lines of the file at `path` that contain `needle`.
std::vector<std::string> GrepLines(const std::string& path, const std::string& needle);

}  // namespace berth::e2e
