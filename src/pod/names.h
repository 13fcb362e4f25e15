// Name reservation: CRI forbids two live sandboxes (or two containers) with the same metadata,
// so each object reserves a name built from its metadata before anything is made for it.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace berth::pod {

class NameRegistry {
 public:
  // Reserves `name` for `id`. When another id has it, returns AlreadyExists naming that id.
  // Reserving a name again for the same id is success.
  absl::Status Reserve(const std::string& name, const std::string& id);

  // Releases `name` if `id` holds it; otherwise does nothing.
  void Release(const std::string& name, const std::string& id);

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> owners_;
};

}  // namespace berth::pod
