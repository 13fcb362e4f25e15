#include "base/cleanup.h"

#include "base/log.h"

namespace berth {

void CleanupStack::RunNow() {
  while (!steps_.empty()) {
    auto [name, undo] = std::move(steps_.back());
    steps_.pop_back();
    absl::Status status = undo();
    if (!status.ok()) {
      Logger("cleanup")->warn("undo step failed step=\"{}\" error=\"{}\"", name, status.ToString());
    }
  }
}

}  // namespace berth
