#include "network/cni_result.h"

#include <arpa/inet.h>

#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::network {
namespace {

absl::Status Malformed(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("CNI result: ", why));
}

bool IsIpv6(const std::string& address) { return address.find(':') != std::string::npos; }

}  // namespace

absl::StatusOr<std::vector<std::string>> PodIpsOf(const nlohmann::json& result,
                                                  const std::string& ifname) {
  if (!result.is_object()) return Malformed("not a JSON object");
  auto ips = result.find("ips");
  if (ips == result.end() || ips->is_null()) return std::vector<std::string>();
  if (!ips->is_array()) return Malformed("\"ips\" is not a list");
  const nlohmann::json interfaces = result.value("interfaces", nlohmann::json::array());

  std::vector<std::string> v4, v6;
  for (const nlohmann::json& ip : *ips) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) {
      return Malformed("an entry of \"ips\" has no \"address\" string");
    }
    if (ip.contains("interface") && ip["interface"].is_number_integer()) {
      size_t index = ip["interface"].get<size_t>();
      if (!interfaces.is_array() || index >= interfaces.size()) {
        return Malformed(absl::StrCat("\"interface\" ", index, " is out of range"));
      }
      const nlohmann::json& link = interfaces[index];
      if (link.value("name", std::string()) != ifname || link.value("sandbox", std::string()).empty()) {
        continue;
      }
    }
    std::string address = ip["address"].get<std::string>();
    address = address.substr(0, address.find('/'));
    (IsIpv6(address) ? v6 : v4).push_back(std::move(address));
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

absl::StatusOr<uint64_t> ParseQuantity(const std::string& quantity) {
  static const std::pair<const char*, uint64_t> kSuffixes[] = {
      {"Ki", 1ULL << 10}, {"Mi", 1ULL << 20}, {"Gi", 1ULL << 30}, {"Ti", 1ULL << 40},
      {"Pi", 1ULL << 50}, {"Ei", 1ULL << 60}, {"k", 1000ULL},     {"M", 1000000ULL},
      {"G", 1000000000ULL}, {"T", 1000000000000ULL}, {"P", 1000000000000000ULL},
      {"E", 1000000000000000000ULL}};
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid quantity \"", quantity, "\""));
  };
  std::string digits = quantity;
  uint64_t multiplier = 1;
  for (const auto& [suffix, factor] : kSuffixes) {
    std::string s = suffix;
    if (digits.size() > s.size() && digits.compare(digits.size() - s.size(), s.size(), s) == 0) {
      digits.resize(digits.size() - s.size());
      multiplier = factor;
      break;
    }
  }
  uint64_t value = 0;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(digits, &value)) {
    return invalid();
  }
  if (value > std::numeric_limits<uint64_t>::max() / multiplier) return invalid();
  return value * multiplier;
}

absl::Status ValidateCidr(const std::string& cidr) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid CIDR \"", cidr, "\""));
  };
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) return invalid();
  std::string address = cidr.substr(0, slash);
  int prefix = 0;
  if (!absl::SimpleAtoi(cidr.substr(slash + 1), &prefix) || prefix < 0) return invalid();
  unsigned char buffer[16];
  if (::inet_pton(AF_INET, address.c_str(), buffer) == 1) {
    return prefix <= 32 ? absl::OkStatus() : invalid();
  }
  if (::inet_pton(AF_INET6, address.c_str(), buffer) == 1) {
    return prefix <= 128 ? absl::OkStatus() : invalid();
  }
  return invalid();
}

}  // namespace berth::network
