#include "network/cni_result.h"

#include <gtest/gtest.h>

namespace berth::network {
namespace {

TEST(PodIpsOf, Version100PutsIpv4FirstAndSkipsHostInterfaces) {
  nlohmann::json result = nlohmann::json::parse(R"({"cniVersion":"1.0.0",
    "interfaces":[{"name":"br0"},{"name":"veth1"},{"name":"eth0","sandbox":"/run/netns/x"}],
    "ips":[{"address":"fd00::5/64","interface":2},{"address":"10.1.0.5/24","interface":2,
            "gateway":"10.1.0.1"},{"address":"10.9.9.9/24","interface":0}]})");
  auto ips = PodIpsOf(result, "eth0");
  ASSERT_TRUE(ips.ok()) << ips.status();
  EXPECT_EQ(*ips, (std::vector<std::string>{"10.1.0.5", "fd00::5"}));
}

TEST(PodIpsOf, Version040WithoutInterfaceIndex) {
  nlohmann::json result = nlohmann::json::parse(R"({"cniVersion":"0.4.0",
    "ips":[{"version":"4","address":"10.2.0.7/16"}]})");
  auto ips = PodIpsOf(result, "eth0");
  ASSERT_TRUE(ips.ok()) << ips.status();
  EXPECT_EQ(*ips, (std::vector<std::string>{"10.2.0.7"}));
}

TEST(PodIpsOf, MalformedResults) {
  EXPECT_FALSE(PodIpsOf(nlohmann::json::parse(R"({"ips":{}})"), "eth0").ok());
  EXPECT_FALSE(PodIpsOf(nlohmann::json::parse(R"({"ips":[{"gateway":"x"}]})"), "eth0").ok());
  EXPECT_FALSE(PodIpsOf(nlohmann::json::parse(R"({"ips":[{"address":"1.2.3.4/8","interface":3}]})"),
                        "eth0")
                   .ok());
  auto none = PodIpsOf(nlohmann::json::parse(R"({"cniVersion":"1.0.0"})"), "eth0");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ParseQuantity, DecimalAndBinarySuffixes) {
  EXPECT_EQ(*ParseQuantity("1000"), 1000u);
  EXPECT_EQ(*ParseQuantity("10M"), 10000000u);
  EXPECT_EQ(*ParseQuantity("5k"), 5000u);
  EXPECT_EQ(*ParseQuantity("1Gi"), 1073741824u);
  for (const char* bad : {"", "M", "1.5M", "-1", "10X", "99999999999E"}) {
    EXPECT_FALSE(ParseQuantity(bad).ok()) << bad;
  }
}

TEST(ValidateCidr, AcceptsBothFamiliesRejectsGarbage) {
  EXPECT_TRUE(ValidateCidr("10.244.1.0/24").ok());
  EXPECT_TRUE(ValidateCidr("fd00:10::/64").ok());
  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "x/8", "fd00::/129", "10.0.0.0/-1"}) {
    EXPECT_FALSE(ValidateCidr(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace berth::network
