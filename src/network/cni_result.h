// Reading what CNI plugins return: the addresses of a result (versions 0.3.x, 0.4.0 and 1.0.0
// share the "ips" layout), and the bandwidth quantities of pod annotations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace berth::network {

// Returns the addresses (without prefix length) that `result` gives the interface `ifname` in
// the container: IPv4 ones first, then IPv6, each in result order. An address whose
// "interface" index points at another interface, or at one outside the container, is skipped;
// one without an index is kept. A result without "ips" gives none; a malformed one is
// InvalidArgument.
absl::StatusOr<std::vector<std::string>> PodIpsOf(const nlohmann::json& result,
                                                  const std::string& ifname);

// Parses a Kubernetes quantity such as "10M", "1Gi", "500k" or "1000000" into a whole number
// (bits per second for bandwidth annotations). Decimal suffixes k M G T P E, binary suffixes
// Ki Mi Gi Ti Pi Ei. Anything else, a fraction or an overflow is InvalidArgument naming the value.
absl::StatusOr<uint64_t> ParseQuantity(const std::string& quantity);

// Checks an IPv4 or IPv6 CIDR such as "10.88.0.0/16". InvalidArgument names the value.
absl::Status ValidateCidr(const std::string& cidr);

}  // namespace berth::network
