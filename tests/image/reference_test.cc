#include "image/reference.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::image {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct ValidCase {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;
  std::string normalised;
};

TEST(ParseReference, ValidTable) {
  const std::vector<ValidCase> cases = {
      {"busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "",
       "docker.io/library/busybox:1.36"},
      {"user/app", "docker.io", "user/app", "latest", "", "docker.io/user/app:latest"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"host:5000/a/b:tag", "host:5000", "a/b", "tag", "", "host:5000/a/b:tag"},
      {"127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", "",
       "127.0.0.1:5000/busybox:latest"},
      {"localhost/x", "localhost", "x", "latest", "", "localhost/x:latest"},
      {"localhost:5000/x/y/z", "localhost:5000", "x/y/z", "latest", "",
       "localhost:5000/x/y/z:latest"},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", "",
       "registry.k8s.io/pause:3.9"},
      {"Example.COM/app", "Example.COM", "app", "latest", "", "Example.COM/app:latest"},
      {"a/b_c__d.e-f---g", "docker.io", "a/b_c__d.e-f---g", "latest", "",
       "docker.io/a/b_c__d.e-f---g:latest"},
      {"busybox:V1_x.y-Z", "docker.io", "library/busybox", "V1_x.y-Z", "",
       "docker.io/library/busybox:V1_x.y-Z"},
      {"busybox@sha256:" + kHex, "docker.io", "library/busybox", "", "sha256:" + kHex,
       "docker.io/library/busybox@sha256:" + kHex},
      {"busybox:1.36@sha256:" + kHex, "docker.io", "library/busybox", "1.36", "sha256:" + kHex,
       "docker.io/library/busybox:1.36@sha256:" + kHex},
      {"host:5000/a@sha256:" + kHex, "host:5000", "a", "", "sha256:" + kHex,
       "host:5000/a@sha256:" + kHex},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.input);
    auto ref = ParseReference(c.input);
    ASSERT_TRUE(ref.ok()) << ref.status();
    EXPECT_EQ(ref->domain, c.domain);
    EXPECT_EQ(ref->path, c.path);
    EXPECT_EQ(ref->tag, c.tag);
    EXPECT_EQ(ref->digest, c.digest);
    EXPECT_EQ(ref->String(), c.normalised);
  }
}

struct InvalidCase {
  std::string input;
  std::string reason;  // a part of the expected message
};

TEST(ParseReference, InvalidTable) {
  const std::vector<InvalidCase> cases = {
      {"", "empty reference"},
      {"BusyBox", "must be lowercase"},
      {"user/App", "must be lowercase"},
      {"busybox:", "invalid tag"},
      {"busybox:-x", "invalid tag"},
      {"busybox:a/b", "invalid registry host"},
      {"busybox:" + std::string(129, 'a'), "invalid tag"},
      {"busybox@sha256:abc", "64 hex digits"},
      {"busybox@md5:" + kHex, "only sha256"},
      {"busybox@sha256:" + kHex + "@x", "more than one"},
      {"a//b", "empty path component"},
      {"a/b/", "empty path component"},
      {"-a", "invalid path component"},
      {"a..b", "invalid path component"},
      {"a_-b", "invalid path component"},
      {"host:port/x", "invalid registry host"},
      {"-bad.host/x", "invalid registry host"},
      {":tag", "missing repository name"},
      {kHex, "image id"},
      {"host.io/" + std::string(250, 'a'), "longer than 255"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.input);
    auto ref = ParseReference(c.input);
    ASSERT_FALSE(ref.ok()) << ref->String();
    EXPECT_EQ(ref.status().code(), absl::StatusCode::kInvalidArgument);
    std::string message(ref.status().message());
    EXPECT_NE(message.find(c.reason), std::string::npos) << message;
    EXPECT_NE(message.find("\"" + c.input + "\""), std::string::npos) << message;
  }
}

TEST(Reference, DerivedNames) {
  auto ref = ParseReference("127.0.0.1:5000/busybox");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->Repository(), "127.0.0.1:5000/busybox");
  EXPECT_EQ(ref->TagRef(), "127.0.0.1:5000/busybox:latest");
  EXPECT_EQ(ref->DigestRef("sha256:" + kHex), "127.0.0.1:5000/busybox@sha256:" + kHex);
  EXPECT_EQ(ref->ManifestKey(), "latest");

  auto pinned = ParseReference("busybox:1.36@sha256:" + kHex);
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->ManifestKey(), "sha256:" + kHex);
}

TEST(RegistryHost, DockerHubMapsToRegistry1) {
  EXPECT_EQ(RegistryHost("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(RegistryHost("127.0.0.1:5000"), "127.0.0.1:5000");
  EXPECT_EQ(RegistryHost("quay.io"), "quay.io");
}

}  // namespace
}  // namespace berth::image
