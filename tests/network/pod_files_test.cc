#include "network/pod_files.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::network {
namespace {

TEST(RenderResolvConf, EmptySettingsKeepHostFile) {
  EXPECT_EQ(RenderResolvConf({}, "nameserver 10.0.0.2\n"), "nameserver 10.0.0.2\n");
}

TEST(RenderResolvConf, SettingsReplaceHostFile) {
  DnsSettings dns{{"10.96.0.10", "10.96.0.11"}, {"ns.svc.cluster.local", "svc.cluster.local"},
                  {"ndots:5"}};
  EXPECT_EQ(RenderResolvConf(dns, "nameserver 10.0.0.2\n"),
            "search ns.svc.cluster.local svc.cluster.local\n"
            "nameserver 10.96.0.10\n"
            "nameserver 10.96.0.11\n"
            "options ndots:5\n");
}

TEST(RenderHosts, PodAddressMapsToHostname) {
  std::string hosts = RenderHosts("web-0", "10.88.0.5");
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(hosts.find("10.88.0.5\tweb-0\n"), std::string::npos);
}

TEST(RenderHosts, NoAddressNoPodLine) {
  EXPECT_EQ(RenderHosts("web-0", "").find("web-0"), std::string::npos);
}

TEST(ValidateHostname, AcceptsRfc1123Names) {
  EXPECT_TRUE(ValidateHostname("web-0").ok());
  EXPECT_TRUE(ValidateHostname("a.b-c.d1").ok());
}

TEST(ValidateHostname, RejectsBadNamesWithValue) {
  for (const std::string& bad : std::vector<std::string>{"", "-web", "web-", "a..b", "under_score", std::string(64, 'a')}) {
    absl::Status status = ValidateHostname(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << bad;
    EXPECT_NE(status.message().find("invalid hostname \"" + bad + "\""), absl::string_view::npos)
        << status;
  }
}

}  // namespace
}  // namespace berth::network
