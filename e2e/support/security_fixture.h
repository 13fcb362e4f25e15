// Helpers shared by the security end-to-end tests: run a container to its end and read what it
// printed, read /proc/self/status fields from that output, build images with hostile layouts.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "e2e/support/cri_fixture.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {

class SecurityTest : public CriTest {
 protected:
  // Pulls the test image and runs a pod named `name`; sets pod_ and pod_id_.
  void StartPod(const std::string& name, bool privileged = false, bool share_pid = false);

  // Creates and starts `config` in the pod, waits (at most 10 s) until it exits and returns
  // its stdout and stderr lines joined with '\n'.
  absl::StatusOr<std::string> RunToExit(const v1::ContainerConfig& config);

  // Pushes an image "e2e/<repo>:latest" made of the busybox layer and `extra` on top, and
  // returns its reference.
  absl::StatusOr<std::string> PushImageWith(const std::string& repo, const TestLayer& extra);

  v1::PodSandboxConfig pod_;
  std::string pod_id_;
};

// Returns the fields "Name:\tvalue" of /proc/self/status text as name -> value.
std::map<std::string, std::string> StatusFields(const std::string& text);

// The command that prints the capability, no_new_privs and seccomp lines of /proc/self/status.
std::vector<std::string> StatusCommand();

}  // namespace berth::e2e
