#include <gtest/gtest.h>

#include "image/registry_auth.h"
#include "image/registry_client.h"

namespace berth::image {
namespace {

TEST(IsInsecureRegistry, LoopbackAndListedHosts) {
  const std::vector<std::string> insecure = {"registry.local", "10.0.0.5:5000"};
  EXPECT_TRUE(IsInsecureRegistry("localhost", {}));
  EXPECT_TRUE(IsInsecureRegistry("localhost:5000", {}));
  EXPECT_TRUE(IsInsecureRegistry("127.0.0.1:41234", {}));
  EXPECT_TRUE(IsInsecureRegistry("registry.local", insecure));
  EXPECT_TRUE(IsInsecureRegistry("registry.local:8080", insecure));
  EXPECT_TRUE(IsInsecureRegistry("10.0.0.5:5000", insecure));
  EXPECT_FALSE(IsInsecureRegistry("10.0.0.5:6000", insecure));
  EXPECT_FALSE(IsInsecureRegistry("docker.io", insecure));
  EXPECT_FALSE(IsInsecureRegistry("localhost.example.com", {}));
}

TEST(RegistryBaseUrl, SchemeAndHost) {
  RegistryOptions options;
  EXPECT_EQ(RegistryBaseUrl("docker.io", options), "https://registry-1.docker.io");
  EXPECT_EQ(RegistryBaseUrl("127.0.0.1:5000", options), "http://127.0.0.1:5000");
  options.insecure_registries = {"quay.io"};
  EXPECT_EQ(RegistryBaseUrl("quay.io", options), "http://quay.io");
}

TEST(ParseAuthChallenge, DockerHubBearer) {
  auto challenge = ParseAuthChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/busybox:pull")");
  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(challenge->scheme, "bearer");
  EXPECT_EQ(challenge->params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(challenge->params["service"], "registry.docker.io");
  EXPECT_EQ(challenge->params["scope"], "repository:library/busybox:pull");
  EXPECT_EQ(TokenUrl(*challenge, "ignored"),
            "https://auth.docker.io/token?service=registry.docker.io&"
            "scope=repository%3Alibrary%2Fbusybox%3Apull");
}

TEST(ParseAuthChallenge, SpacingQuotesAndBasic) {
  auto spaced = ParseAuthChallenge(R"(bearer  Realm = "http://a/t?x=1" , service=svc)");
  ASSERT_TRUE(spaced.has_value());
  EXPECT_EQ(spaced->params["realm"], "http://a/t?x=1");
  EXPECT_EQ(spaced->params["service"], "svc");
  EXPECT_EQ(TokenUrl(*spaced, "repository:a:pull"),
            "http://a/t?x=1&service=svc&scope=repository%3Aa%3Apull");

  auto escaped = ParseAuthChallenge(R"(Bearer realm="a\"b")");
  ASSERT_TRUE(escaped.has_value());
  EXPECT_EQ(escaped->params["realm"], "a\"b");

  auto basic = ParseAuthChallenge(R"(Basic realm="registry")");
  ASSERT_TRUE(basic.has_value());
  EXPECT_EQ(basic->scheme, "basic");

  EXPECT_FALSE(ParseAuthChallenge("").has_value());
  EXPECT_FALSE(ParseAuthChallenge(R"(Bearer realm="unterminated)").has_value());
  EXPECT_FALSE(ParseAuthChallenge("Bearer realm").has_value());
}

}  // namespace
}  // namespace berth::image
