#include "runtime/linux/capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace berth::runtime {
namespace {

std::string CapName(int cap) {
  char* text = cap_to_name(static_cast<cap_value_t>(cap));
  std::string name = text != nullptr ? absl::AsciiStrToUpper(text) : absl::StrCat(cap);
  cap_free(text);
  return name;
}

absl::Status ResolveSet(const std::vector<std::string>& names, bool needs_bounding,
                        std::vector<int>* out, std::vector<std::string>* dropped) {
  int max_bits = static_cast<int>(cap_max_bits());
  for (const std::string& name : names) {
    cap_value_t value;
    if (cap_from_name(absl::AsciiStrToLower(name).c_str(), &value) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown capability \"", name, "\""));
    }
    bool known = value < max_bits;
    bool grantable = !needs_bounding || prctl(PR_CAPBSET_READ, value, 0, 0, 0) == 1;
    if (!known || !grantable) {
      if (std::find(dropped->begin(), dropped->end(), name) == dropped->end()) {
        dropped->push_back(name);
      }
      continue;
    }
    if (std::find(out->begin(), out->end(), value) == out->end()) out->push_back(value);
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> AllCapabilityNames() {
  std::vector<std::string> names;
  int max_bits = static_cast<int>(cap_max_bits());
  for (int cap = 0; cap < max_bits; ++cap) names.push_back(CapName(cap));
  return names;
}

bool IsKnownCapabilityName(const std::string& name) {
  cap_value_t value;
  return cap_from_name(absl::AsciiStrToLower(name).c_str(), &value) == 0;
}

absl::StatusOr<CapabilitySets> ResolveCapabilities(const std::optional<Capabilities>& names,
                                                   std::vector<std::string>* dropped) {
  CapabilitySets sets;
  if (!names) return sets;
  BERTH_RETURN_IF_ERROR(ResolveSet(names->bounding, false, &sets.bounding, dropped));
  BERTH_RETURN_IF_ERROR(ResolveSet(names->effective, true, &sets.effective, dropped));
  BERTH_RETURN_IF_ERROR(ResolveSet(names->inheritable, true, &sets.inheritable, dropped));
  BERTH_RETURN_IF_ERROR(ResolveSet(names->permitted, true, &sets.permitted, dropped));
  BERTH_RETURN_IF_ERROR(ResolveSet(names->ambient, true, &sets.ambient, dropped));
  return sets;
}

absl::Status DropBoundingSet(const CapabilitySets& sets) {
  int max_bits = static_cast<int>(cap_max_bits());
  for (int cap = 0; cap < max_bits; ++cap) {
    if (std::find(sets.bounding.begin(), sets.bounding.end(), cap) != sets.bounding.end()) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return ErrnoError(errno, "prctl(PR_CAPBSET_DROP)", CapName(cap));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyCapabilitySets(const CapabilitySets& sets) {
  cap_t caps = cap_init();
  if (caps == nullptr) return ErrnoError(errno, "cap_init");
  auto set_flag = [&](cap_flag_t flag, const std::vector<int>& values) {
    std::vector<cap_value_t> list(values.begin(), values.end());
    if (list.empty()) return 0;
    return cap_set_flag(caps, flag, static_cast<int>(list.size()), list.data(), CAP_SET);
  };
  int result = set_flag(CAP_EFFECTIVE, sets.effective) | set_flag(CAP_PERMITTED, sets.permitted) |
               set_flag(CAP_INHERITABLE, sets.inheritable);
  if (result != 0) {
    cap_free(caps);
    return ErrnoError(errno, "cap_set_flag");
  }
  result = cap_set_proc(caps);
  int err = errno;
  cap_free(caps);
  if (result != 0) return ErrnoError(err, "capset");

  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return ErrnoError(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  }
  for (int cap : sets.ambient) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      return ErrnoError(errno, "prctl(PR_CAP_AMBIENT_RAISE)", CapName(cap));
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::runtime
