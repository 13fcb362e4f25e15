#include "pod/names.h"

#include "absl/strings/str_cat.h"

namespace berth::pod {

absl::Status NameRegistry::Reserve(const std::string& name, const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = owners_.emplace(name, id);
  if (inserted || it->second == id) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat("name \"", name, "\" is already reserved for ", it->second));
}

void NameRegistry::Release(const std::string& name, const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = owners_.find(name);
  if (it != owners_.end() && it->second == id) owners_.erase(it);
}

}  // namespace berth::pod
