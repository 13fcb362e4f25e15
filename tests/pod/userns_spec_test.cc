// Pod user namespaces: the CRI options PodUsernsOf accepts, the uid_map text, and the spec
// entries ApplyPodUserns adds to join the pod's namespace.
#include "pod/userns_spec.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/linux/launcher.h"

namespace berth::pod {
namespace {

namespace v1 = ::runtime::v1;

bool Contains(const absl::Status& status, const std::string& text) {
  return status.message().find(text) != absl::string_view::npos;
}

void AddMapping(google::protobuf::RepeatedPtrField<v1::IDMapping>* list, uint32_t container,
                uint32_t host, uint32_t length) {
  v1::IDMapping* m = list->Add();
  m->set_container_id(container);
  m->set_host_id(host);
  m->set_length(length);
}

// Sets mode POD with uids 0..65535 -> 100000.. and gids 0..65535 -> 200000..
void SetPodUserns(v1::NamespaceOption* namespaces) {
  v1::UserNamespace* userns = namespaces->mutable_userns_options();
  userns->set_mode(v1::POD);
  AddMapping(userns->mutable_uids(), 0, 100000, 65536);
  AddMapping(userns->mutable_gids(), 0, 200000, 65536);
}

constexpr char kField[] = "config.linux.security_context.namespace_options.userns_options";

TEST(PodUsernsOfTest, NoOptionsIsNone) {
  v1::NamespaceOption namespaces;
  auto userns = PodUsernsOf(namespaces);
  ASSERT_TRUE(userns.ok()) << userns.status();
  EXPECT_FALSE(userns->has_value());
}

TEST(PodUsernsOfTest, NodeIsNone) {
  v1::NamespaceOption namespaces;
  namespaces.mutable_userns_options()->set_mode(v1::NODE);
  auto userns = PodUsernsOf(namespaces);
  ASSERT_TRUE(userns.ok()) << userns.status();
  EXPECT_FALSE(userns->has_value());
}

TEST(PodUsernsOfTest, NodeWithMappingsRejected) {
  v1::NamespaceOption namespaces;
  namespaces.mutable_userns_options()->set_mode(v1::NODE);
  AddMapping(namespaces.mutable_userns_options()->mutable_gids(), 0, 100000, 10);
  auto userns = PodUsernsOf(namespaces);
  ASSERT_FALSE(userns.ok());
  EXPECT_EQ(userns.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(userns.status().message(),
            std::string(kField) + ": mode NODE takes no uids or gids");
}

TEST(PodUsernsOfTest, PodGivesItsMappings) {
  v1::NamespaceOption namespaces;
  SetPodUserns(&namespaces);
  AddMapping(namespaces.mutable_userns_options()->mutable_uids(), 65536, 500000, 10);
  auto userns = PodUsernsOf(namespaces);
  ASSERT_TRUE(userns.ok()) << userns.status();
  ASSERT_TRUE(userns->has_value());
  const PodUserns& pod = **userns;
  ASSERT_EQ(pod.uids.size(), 2u);
  EXPECT_EQ(pod.uids[0].container_id, 0u);
  EXPECT_EQ(pod.uids[0].host_id, 100000u);
  EXPECT_EQ(pod.uids[0].size, 65536u);
  EXPECT_EQ(pod.uids[1].container_id, 65536u);
  EXPECT_EQ(pod.uids[1].host_id, 500000u);
  EXPECT_EQ(pod.uids[1].size, 10u);
  ASSERT_EQ(pod.gids.size(), 1u);
  EXPECT_EQ(pod.gids[0].host_id, 200000u);
}

TEST(PodUsernsOfTest, ContainerAndTargetRejected) {
  for (v1::NamespaceMode mode : {v1::CONTAINER, v1::TARGET}) {
    v1::NamespaceOption namespaces;
    SetPodUserns(&namespaces);
    namespaces.mutable_userns_options()->set_mode(mode);
    auto userns = PodUsernsOf(namespaces);
    ASSERT_FALSE(userns.ok()) << v1::NamespaceMode_Name(mode);
    EXPECT_EQ(userns.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(userns.status().message(),
              std::string(kField) + ".mode " + v1::NamespaceMode_Name(mode) +
                  " is not supported; use POD or NODE");
  }
}

TEST(PodUsernsOfTest, NodeNamespacesAlongsideRejected) {
  struct Case {
    const char* name;
    void (v1::NamespaceOption::*set)(v1::NamespaceMode);
  };
  for (const Case& c : {Case{"network", &v1::NamespaceOption::set_network},
                        Case{"pid", &v1::NamespaceOption::set_pid},
                        Case{"ipc", &v1::NamespaceOption::set_ipc}}) {
    v1::NamespaceOption namespaces;
    SetPodUserns(&namespaces);
    (namespaces.*c.set)(v1::NODE);
    auto userns = PodUsernsOf(namespaces);
    ASSERT_FALSE(userns.ok()) << c.name;
    EXPECT_EQ(userns.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(userns.status().message(),
              std::string(kField) +
                  ": a pod with its own user namespace cannot share the node's " + c.name +
                  " namespace");
  }
  // A pid namespace of the container's own is fine.
  v1::NamespaceOption namespaces;
  SetPodUserns(&namespaces);
  namespaces.set_pid(v1::CONTAINER);
  EXPECT_TRUE(PodUsernsOf(namespaces).ok());
}

TEST(PodUsernsOfTest, BadMappingsNameCriField) {
  v1::NamespaceOption namespaces;
  SetPodUserns(&namespaces);
  AddMapping(namespaces.mutable_userns_options()->mutable_gids(), 70000, 0, 1);
  auto userns = PodUsernsOf(namespaces);
  ASSERT_FALSE(userns.ok());
  EXPECT_EQ(userns.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(userns.status().message(), std::string(kField) + ".gids[1]: maps the host's id 0");

  v1::NamespaceOption empty;
  empty.mutable_userns_options()->set_mode(v1::POD);
  auto none = PodUsernsOf(empty);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), std::string(kField) + ".uids is empty");
}

TEST(IdMapTextTest, OneLinePerMapping) {
  EXPECT_EQ(IdMapText({}), "");
  EXPECT_EQ(IdMapText({{0, 100000, 65536}}), "0 100000 65536\n");
  EXPECT_EQ(IdMapText({{0, 100000, 1}, {1, 4294967294u, 1}}), "0 100000 1\n1 4294967294 1\n");
}

class ApplyPodUsernsTest : public ::testing::Test {
 protected:
  ApplyPodUsernsTest() {
    spec_.process.args = {"/app"};
    spec_.process.user = {1000, 1000, {5, 65535}};
    sandbox_.id = "pod1";
    SetPodUserns(sandbox_.config.mutable_linux()->mutable_security_context()
                     ->mutable_namespace_options());
    sandbox_.userns_path = "/state/userns/pod1";
  }

  absl::Status Apply(const v1::ContainerConfig* config) {
    return ApplyPodUserns(spec_, sandbox_, config, "idmap");
  }
  v1::NamespaceOption* ContainerNamespaces() {
    return config_.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  }

  runtime::Spec spec_ = runtime::BaseSpec();
  SandboxRecord sandbox_;
  v1::ContainerConfig config_;
};

TEST_F(ApplyPodUsernsTest, JoinsThePodNamespace) {
  size_t before = spec_.linux.namespaces.size();
  ASSERT_TRUE(ApplyPodUserns(spec_, sandbox_, &config_, "chown").ok());

  ASSERT_EQ(spec_.linux.namespaces.size(), before + 1);
  const runtime::Namespace* user = runtime::FindNamespace(spec_, "user");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->path, "/state/userns/pod1");
  ASSERT_EQ(spec_.linux.uid_mappings.size(), 1u);
  EXPECT_EQ(spec_.linux.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(spec_.linux.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(spec_.linux.uid_mappings[0].size, 65536u);
  ASSERT_EQ(spec_.linux.gid_mappings.size(), 1u);
  EXPECT_EQ(spec_.linux.gid_mappings[0].host_id, 200000u);
  EXPECT_EQ(spec_.annotations.at("io.berth.userns.ownership"), "chown");
  EXPECT_EQ(std::string(runtime::kUsernsOwnershipAnnotation), "io.berth.userns.ownership");

  spec_.process.args = {"/app"};
  spec_.root.path = "/r";
  EXPECT_TRUE(runtime::ValidateSpec(spec_).ok()) << runtime::ValidateSpec(spec_);
}

TEST_F(ApplyPodUsernsTest, PauseHasNoContainerConfig) {
  spec_.process.user = {0, 0, {}};
  ASSERT_TRUE(Apply(nullptr).ok());
  EXPECT_EQ(runtime::FindNamespace(spec_, "user")->path, "/state/userns/pod1");
  EXPECT_EQ(spec_.annotations.at(runtime::kUsernsOwnershipAnnotation), "idmap");
}

TEST_F(ApplyPodUsernsTest, ContainerMayRepeatPodOptions) {
  SetPodUserns(ContainerNamespaces());
  EXPECT_TRUE(Apply(&config_).ok()) << Apply(&config_);
}

TEST_F(ApplyPodUsernsTest, ContainerMayNotDiffer) {
  const std::string expected =
      std::string(kField) + ": a container must use its pod's user namespace as it is";

  SetPodUserns(ContainerNamespaces());
  ContainerNamespaces()->mutable_userns_options()->mutable_uids(0)->set_host_id(300000);
  absl::Status other_host = Apply(&config_);
  EXPECT_EQ(other_host.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(other_host.message(), expected);

  config_.Clear();
  SetPodUserns(ContainerNamespaces());
  AddMapping(ContainerNamespaces()->mutable_userns_options()->mutable_gids(), 65536, 900000, 1);
  EXPECT_EQ(Apply(&config_).message(), expected) << "an extra gid range";

  config_.Clear();
  ContainerNamespaces()->mutable_userns_options()->set_mode(v1::NODE);
  EXPECT_EQ(Apply(&config_).message(), expected) << "mode NODE";
}

TEST_F(ApplyPodUsernsTest, UnmappedUserRejected) {
  spec_.process.user.uid = 65536;
  absl::Status status = Apply(&config_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(status, "user id 65536 is outside the pod's user namespace")) << status;
  // The field is the sandbox config's, not the container's.
  EXPECT_TRUE(Contains(status, "the sandbox config's linux.security_context.namespace_options"))
      << status;
}

TEST_F(ApplyPodUsernsTest, UnmappedGroupRejected) {
  spec_.process.user.gid = 70000;
  absl::Status status = Apply(&config_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(status, "group id 70000 is outside the pod's user namespace")) << status;
}

TEST_F(ApplyPodUsernsTest, UnmappedSupplementalGroupRejected) {
  spec_.process.user.additional_gids = {5, 4294967295u};
  absl::Status status = Apply(&config_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(status, "supplemental group 4294967295 is outside")) << status;
}

TEST_F(ApplyPodUsernsTest, NoPodUsernsLeavesSpec) {
  sandbox_.userns_path.clear();
  sandbox_.config.Clear();
  runtime::Spec before = spec_;
  ASSERT_TRUE(Apply(&config_).ok());
  EXPECT_EQ(runtime::FindNamespace(spec_, "user"), nullptr);
  EXPECT_TRUE(spec_.linux.uid_mappings.empty());
  EXPECT_EQ(spec_.annotations.count(runtime::kUsernsOwnershipAnnotation), 0u);
  EXPECT_EQ(runtime::SpecToJson(spec_), runtime::SpecToJson(before));
}

TEST_F(ApplyPodUsernsTest, NoPodUsernsRejectsContainerRequest) {
  sandbox_.userns_path.clear();
  sandbox_.config.Clear();
  SetPodUserns(ContainerNamespaces());
  absl::Status status = Apply(&config_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            std::string(kField) + ": the container asks for a user namespace its pod does not have");
  EXPECT_EQ(runtime::FindNamespace(spec_, "user"), nullptr);

  // A request for the node's user namespace matches what the pod has.
  config_.Clear();
  ContainerNamespaces()->mutable_userns_options()->set_mode(v1::NODE);
  EXPECT_TRUE(Apply(&config_).ok());
}

}  // namespace
}  // namespace berth::pod
