#include "e2e/support/security_fixture.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "base/status.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {

void SecurityTest::StartPod(const std::string& name, bool privileged, bool share_pid) {
  absl::StatusOr<std::string> pulled = Pull();
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  pod_ = PodConfig(name);
  auto* sc = pod_.mutable_linux()->mutable_security_context();
  sc->set_privileged(privileged);
  if (share_pid) sc->mutable_namespace_options()->set_pid(v1::POD);
  // What the kubelet sends for a pod without a user namespace.
  sc->mutable_namespace_options()->mutable_userns_options()->set_mode(v1::NODE);
  absl::StatusOr<std::string> id = RunPod(pod_);
  ASSERT_TRUE(id.ok()) << id.status();
  pod_id_ = *id;
}

absl::StatusOr<std::string> SecurityTest::RunToExit(const v1::ContainerConfig& config) {
  BERTH_ASSIGN_OR_RETURN(std::string id, StartNewContainer(pod_id_, config, pod_));
  BERTH_ASSIGN_OR_RETURN(v1::ContainerStatus status,
                         WaitForState(id, v1::CONTAINER_EXITED, std::chrono::milliseconds(10000)));
  BERTH_ASSIGN_OR_RETURN(std::string log, ReadFile(JoinPath(log_dir(), config.log_path())));
  // Each CRI log line is "<time> <stream> <P|F> <text>".
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    lines.emplace_back(parts.size() == 4 ? parts[3] : "");
  }
  return absl::StrJoin(lines, "\n");
}

std::map<std::string, std::string> StatusFields(const std::string& text) {
  std::map<std::string, std::string> fields;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (parts.size() != 2) continue;
    fields[std::string(parts[0])] = std::string(absl::StripAsciiWhitespace(parts[1]));
  }
  return fields;
}

absl::StatusOr<std::string> SecurityTest::PushImageWith(const std::string& repo,
                                                        const TestLayer& extra) {
  BERTH_ASSIGN_OR_RETURN(TestLayer base, BusyboxLayer());
  BERTH_ASSIGN_OR_RETURN(TestImage built, BuildImage({base, extra}, TestImageConfig{}));
  std::string name = absl::StrCat("e2e/", repo);
  BERTH_RETURN_IF_ERROR(registry().PushImage(name, "latest", built));
  std::string reference = image();
  reference = absl::StrCat(reference.substr(0, reference.find("/e2e/")), "/", name, ":latest");
  BERTH_RETURN_IF_ERROR(Pull(reference).status());
  return reference;
}

std::vector<std::string> StatusCommand() {
  return {"grep", "-E", "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):",
          "/proc/self/status"};
}

}  // namespace berth::e2e
