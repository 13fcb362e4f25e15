#include "cri/validate.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::cri {
namespace {

::runtime::v1::PodSandboxConfig ValidPod() {
  ::runtime::v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name("web");
  config.mutable_metadata()->set_namespace_("default");
  config.mutable_metadata()->set_uid("uid-1");
  return config;
}

::runtime::v1::ContainerConfig ValidContainer() {
  ::runtime::v1::ContainerConfig config;
  config.mutable_metadata()->set_name("app");
  config.mutable_image()->set_image("busybox");
  return config;
}

void ExpectInvalid(const absl::Status& status, const std::string& fragment) {
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(std::string(status.message()).find(fragment), std::string::npos) << status;
}

TEST(ValidatePodSandboxConfig, AcceptsMinimalConfig) {
  EXPECT_TRUE(ValidatePodSandboxConfig(ValidPod()).ok());
}

TEST(ValidatePodSandboxConfig, MissingMetadata) {
  ExpectInvalid(ValidatePodSandboxConfig({}), "config.metadata is missing");
}

TEST(ValidatePodSandboxConfig, EmptyMetadataFields) {
  auto no_name = ValidPod();
  no_name.mutable_metadata()->clear_name();
  ExpectInvalid(ValidatePodSandboxConfig(no_name), "config.metadata.name");

  auto no_namespace = ValidPod();
  no_namespace.mutable_metadata()->clear_namespace_();
  ExpectInvalid(ValidatePodSandboxConfig(no_namespace), "config.metadata.namespace");

  auto no_uid = ValidPod();
  no_uid.mutable_metadata()->clear_uid();
  ExpectInvalid(ValidatePodSandboxConfig(no_uid), "config.metadata.uid");
}

TEST(ValidatePodSandboxConfig, NameWithSlashNamesValue) {
  auto config = ValidPod();
  config.mutable_metadata()->set_name("a/b");
  ExpectInvalid(ValidatePodSandboxConfig(config), "\"a/b\"");
}

TEST(ValidatePodSandboxConfig, RelativeLogDirectory) {
  auto config = ValidPod();
  config.set_log_directory("logs");
  ExpectInvalid(ValidatePodSandboxConfig(config), "config.log_directory \"logs\"");
}

TEST(ValidatePodSandboxConfig, CgroupParentEscaping) {
  auto config = ValidPod();
  config.mutable_linux()->set_cgroup_parent("/kubepods/../..");
  ExpectInvalid(ValidatePodSandboxConfig(config), "config.linux.cgroup_parent");
}

TEST(ValidateContainerConfig, AcceptsMinimalConfig) {
  EXPECT_TRUE(ValidateContainerConfig(ValidContainer()).ok());
}

TEST(ValidateContainerConfig, MissingImage) {
  auto config = ValidContainer();
  config.clear_image();
  ExpectInvalid(ValidateContainerConfig(config), "config.image.image");
}

TEST(ValidateContainerConfig, LogPathOutsideDirectory) {
  auto config = ValidContainer();
  config.set_log_path("../escape.log");
  ExpectInvalid(ValidateContainerConfig(config), "config.log_path \"../escape.log\"");
  config.set_log_path("/abs.log");
  ExpectInvalid(ValidateContainerConfig(config), "config.log_path \"/abs.log\"");
}

TEST(ValidateContainerConfig, SecurityProfilesChecked) {
  auto runtime_default = ValidContainer();
  runtime_default.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      ::runtime::v1::SecurityProfile::RuntimeDefault);
  EXPECT_TRUE(ValidateContainerConfig(runtime_default).ok());

  auto unconfined = ValidContainer();
  unconfined.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      ::runtime::v1::SecurityProfile::Unconfined);
  EXPECT_TRUE(ValidateContainerConfig(unconfined).ok());

  auto relative = ValidContainer();
  auto* seccomp = relative.mutable_linux()->mutable_security_context()->mutable_seccomp();
  seccomp->set_profile_type(::runtime::v1::SecurityProfile::Localhost);
  seccomp->set_localhost_ref("profiles/deny.json");
  ExpectInvalid(ValidateContainerConfig(relative), "\"profiles/deny.json\"");

  auto unnamed = ValidContainer();
  unnamed.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      ::runtime::v1::SecurityProfile::Localhost);
  ExpectInvalid(ValidateContainerConfig(unnamed), "localhost_ref is empty");
}

TEST(ValidatePodSandboxConfig, SeccompLocalhostNeedsPath) {
  auto config = ValidPod();
  config.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      ::runtime::v1::SecurityProfile::Localhost);
  ExpectInvalid(ValidatePodSandboxConfig(config), "localhost_ref is empty");
}

TEST(ValidateRuntimeHandler, OnlyDefaultHandler) {
  EXPECT_TRUE(ValidateRuntimeHandler("").ok());
  ExpectInvalid(ValidateRuntimeHandler("kata"), "runtime_handler \"kata\"");
}

TEST(ValidateId, EmptyIdNamesField) {
  ExpectInvalid(ValidateId("", "container_id"), "container_id");
  EXPECT_TRUE(ValidateId("abc", "container_id").ok());
}

}  // namespace
}  // namespace berth::cri
