#include <gtest/gtest.h>

#include "image/http_client.h"
#include "image/registry_auth.h"
#include "image/registry_client.h"
#include "image/registry_retry.h"

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

TEST(ParseAuthChallenge, RegistryTokenChallengeWithErrorParam) {
  auto challenge = ParseAuthChallenge(
      R"(Bearer realm="http://127.0.0.1:5001/auth",service="Berth test",)"
      R"(scope="repository:team/app:pull",error="insufficient_scope")");
  ASSERT_TRUE(challenge.has_value());
  EXPECT_EQ(challenge->params["service"], "Berth test");
  EXPECT_EQ(challenge->params["error"], "insufficient_scope");
  EXPECT_EQ(TokenUrl(*challenge, "x"),
            "http://127.0.0.1:5001/auth?service=Berth%20test&"
            "scope=repository%3Ateam%2Fapp%3Apull");
  EXPECT_EQ(PullScope("team/app"), "repository:team/app:pull");
}

TEST(UrlOrigin, SchemeHostAndPort) {
  EXPECT_EQ(UrlOrigin("https://Registry.example.com/v2/x"), "https://registry.example.com:443");
  EXPECT_EQ(UrlOrigin("http://127.0.0.1:5000/v2/"), "http://127.0.0.1:5000");
  EXPECT_EQ(UrlOrigin("http://127.0.0.1/v2/"), "http://127.0.0.1:80");
  EXPECT_EQ(UrlOrigin("https://user@[::1]:8443?x"), "https://[::1]:8443");
  EXPECT_EQ(UrlOrigin("https://[::1]/a"), "https://[::1]:443");
  EXPECT_NE(UrlOrigin("http://127.0.0.1:5000/a"), UrlOrigin("http://localhost:5000/a"));
  EXPECT_EQ(UrlOrigin("no-scheme"), "");
}

TEST(Credentials, UserAndPasswordForms) {
  Credentials plain;
  plain.username = "alice";
  plain.password = "s3cret";
  auto user = UserAndPassword(plain);
  ASSERT_TRUE(user.ok());
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->first, "alice");
  EXPECT_EQ((*user)->second, "s3cret");

  Credentials encoded;
  encoded.auth = "Ym9iOnBhOnNz";  // bob:pa:ss
  user = UserAndPassword(encoded);
  ASSERT_TRUE(user.ok());
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->first, "bob");
  EXPECT_EQ((*user)->second, "pa:ss");

  Credentials broken;
  broken.auth = "bm9jb2xvbg==";  // nocolon
  EXPECT_EQ(UserAndPassword(broken).status().code(), absl::StatusCode::kInvalidArgument);
  broken.auth = "***";
  EXPECT_EQ(UserAndPassword(broken).status().code(), absl::StatusCode::kInvalidArgument);

  auto none = UserAndPassword(Credentials{});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(BasicAuthorization("alice", "s3cret"), "Basic YWxpY2U6czNjcmV0");
}

TEST(Credentials, FingerprintSeparatesFields) {
  Credentials a;
  a.username = "ab";
  Credentials b;
  b.username = "a";
  b.password = "b";
  EXPECT_EQ(CredentialsFingerprint(Credentials{}), "");
  EXPECT_NE(CredentialsFingerprint(a), "");
  EXPECT_NE(CredentialsFingerprint(a), CredentialsFingerprint(b));
  EXPECT_EQ(CredentialsFingerprint(a), CredentialsFingerprint(a));
  EXPECT_EQ(CredentialsFingerprint(a).find("ab"), std::string::npos);
}

TEST(ParseTokenResponse, LifetimeFromExpiresInAndIssuedAt) {
  auto now = WallClock::from_time_t(1'800'000'000);
  auto token = ParseTokenResponse(R"({"token":"t1","expires_in":300})", now, "realm");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->value, "t1");
  EXPECT_EQ(token->expires, now + std::chrono::seconds(300));

  // 2027-01-15T07:40:00Z is 1'800'000'000 - 1'200 s: the token was issued 20 minutes ago.
  token = ParseTokenResponse(
      R"({"access_token":"t2","expires_in":3600,"issued_at":"2027-01-15T07:40:00Z"})", now,
      "realm");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->value, "t2");
  EXPECT_EQ(token->expires, now + std::chrono::seconds(2400));

  token = ParseTokenResponse(R"({"token":"t3"})", now, "realm");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->expires, now + std::chrono::seconds(60));

  EXPECT_EQ(ParseTokenResponse(R"({"token":""})", now, "realm").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(ParseTokenResponse("not json", now, "realm").ok());
}

TEST(TokenCache, EntriesExpireAndKeysSeparate) {
  TokenCache cache;
  auto now = WallClock::now();
  std::string key = TokenCache::Key("http://r:5000", "repository:a:pull", "");
  std::string other_scope = TokenCache::Key("http://r:5000", "repository:b:pull", "");
  std::string other_user = TokenCache::Key("http://r:5000", "repository:a:pull", "f00d");
  cache.Put(key, {"tok", now + std::chrono::seconds(60)});

  EXPECT_EQ(cache.Get(key, now), "tok");
  EXPECT_EQ(cache.Get(key, now + std::chrono::seconds(50)), "tok");
  // Not used in its last seconds, nor after.
  EXPECT_EQ(cache.Get(key, now + std::chrono::seconds(58)), std::nullopt);
  EXPECT_EQ(cache.Get(key, now + std::chrono::seconds(61)), std::nullopt);
  EXPECT_EQ(cache.Get(other_scope, now), std::nullopt);
  EXPECT_EQ(cache.Get(other_user, now), std::nullopt);

  cache.Put(key, {"newer", now + std::chrono::seconds(600)});
  EXPECT_EQ(cache.Get(key, now + std::chrono::seconds(120)), "newer");
}

TEST(TokenCache, IsBounded) {
  TokenCache cache;
  auto later = WallClock::now() + std::chrono::hours(1);
  for (size_t i = 0; i < TokenCache::kMaxEntries + 10; ++i) {
    cache.Put(TokenCache::Key("h", std::to_string(i), ""),
              {"t", later + std::chrono::seconds(static_cast<int64_t>(i))});
  }
  EXPECT_EQ(cache.size(), TokenCache::kMaxEntries);
  // The newest entry stays; the oldest went.
  EXPECT_TRUE(cache.Get(TokenCache::Key("h", std::to_string(TokenCache::kMaxEntries + 9), ""),
                        WallClock::now())
                  .has_value());
  EXPECT_FALSE(cache.Get(TokenCache::Key("h", "0", ""), WallClock::now()).has_value());
}

TEST(Authorizer, BasicChallengeIsRememberedPerHost) {
  AuthState state;
  Credentials credentials;
  credentials.username = "alice";
  credentials.password = "pw";
  Authorizer authorizer(state, credentials);
  EXPECT_EQ(authorizer.CachedAuthorization("http://r:1", "repository:a:pull"), "");
  auto header = authorizer.Answer("http://r:1", R"(Basic realm="Registry Realm")",
                                  "repository:a:pull", TokenTransport{});
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(*header, BasicAuthorization("alice", "pw"));
  EXPECT_EQ(authorizer.CachedAuthorization("http://r:1", "repository:b:pull"), *header);
  EXPECT_EQ(authorizer.CachedAuthorization("http://other:1", "repository:a:pull"), "");

  // An anonymous pull of the same host sends no header and cannot respond to the challenge.
  Authorizer anonymous(state, Credentials{});
  EXPECT_EQ(anonymous.CachedAuthorization("http://r:1", "repository:a:pull"), "");
  auto refused = anonymous.Answer("http://r:1", R"(Basic realm="x")", "repository:a:pull",
                                  TokenTransport{});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(Authorizer, RegistryTokenIsSentAsBearer) {
  AuthState state;
  Credentials credentials;
  credentials.registry_token = "opaque";
  Authorizer authorizer(state, credentials);
  auto header = authorizer.Answer("http://r:1", R"(Bearer realm="http://127.0.0.1:9/t")",
                                  "repository:a:pull", TokenTransport{});
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(*header, "Bearer opaque");
  EXPECT_EQ(authorizer.CachedAuthorization("http://r:1", "repository:z:pull"), "Bearer opaque");
}

TEST(Authorizer, CachedTokenOnlyForItsScopeAndCredentials) {
  AuthState state;
  state.SetChallenge("http://r:1", *ParseAuthChallenge(R"(Bearer realm="http://a/t")"));
  Credentials alice;
  alice.username = "alice";
  state.tokens().Put(TokenCache::Key("http://r:1", "repository:a:pull",
                                     CredentialsFingerprint(alice)),
                     {"alice-token", WallClock::now() + std::chrono::minutes(5)});
  EXPECT_EQ(Authorizer(state, alice).CachedAuthorization("http://r:1", "repository:a:pull"),
            "Bearer alice-token");
  EXPECT_EQ(Authorizer(state, alice).CachedAuthorization("http://r:1", "repository:b:pull"), "");
  EXPECT_EQ(Authorizer(state, Credentials{}).CachedAuthorization("http://r:1",
                                                                 "repository:a:pull"),
            "");
}

TEST(Authorizer, UnusableChallenges) {
  AuthState state;
  Authorizer authorizer(state, Credentials{});
  EXPECT_EQ(authorizer.Answer("h", "", "s", TokenTransport{}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authorizer.Answer("h", "Negotiate abc=1", "s", TokenTransport{}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authorizer.Answer("h", R"(Bearer service="x")", "s", TokenTransport{}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(Retry, RetryableStatuses) {
  for (long status : {408L, 429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(IsRetryableStatus(status));
  for (long status : {200L, 206L, 400L, 401L, 403L, 404L, 416L, 501L, 505L}) {
    EXPECT_FALSE(IsRetryableStatus(status)) << status;
  }
}

TEST(Retry, BackoffGrowsAndIsCapped) {
  RetryPolicy policy;
  policy.initial_delay = std::chrono::milliseconds(100);
  policy.max_delay = std::chrono::milliseconds(1000);
  for (int retry = 1; retry <= 10; ++retry) {
    int64_t full = std::min<int64_t>(100LL << (retry - 1), 1000);
    auto delay = BackoffDelay(policy, retry).count();
    EXPECT_LE(delay, full) << retry;
    EXPECT_GE(delay, full - full / 4) << retry;
  }
}

TEST(Retry, RetryAfterSecondsAndDates) {
  auto now = WallClock::from_time_t(1'445'412'480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("2", now), std::chrono::milliseconds(2000));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", now),
            std::chrono::milliseconds(5000));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), std::chrono::milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-3", now), std::nullopt);
}

TEST(Retry, SleepStopsWhenCancelled) {
  auto start = std::chrono::steady_clock::now();
  absl::Status slept = SleepUnlessCancelled(std::chrono::seconds(30), [] { return true; });
  EXPECT_EQ(slept.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(SleepUnlessCancelled(std::chrono::milliseconds(10), nullptr).ok());
}

}  // namespace
}  // namespace berth::image
