#include <iostream>

#include "absl/strings/str_cat.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {

Client& Session::client() {
  if (client_ == nullptr) client_ = std::make_unique<Client>(options_);
  return *client_;
}

void Session::PrintError(const absl::Status& status) const {
  std::cerr << "berthctl: " << verb_ << ": " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << std::endl;
}

int ForEachId(Session& session, const Args& ids,
              const std::function<absl::Status(const std::string& id)>& step) {
  int exit_code = 0;
  for (const std::string& id : ids) {
    const absl::Status status = step(id);
    if (!status.ok()) {
      session.PrintError(status);
      exit_code = 1;
    }
  }
  return exit_code;
}

void AddOutputFlag(FlagSet& flags, std::string* value, bool allow_table) {
  flags.AddString("output", 'o', value, "FORMAT",
                  absl::StrCat("output format: ", allow_table ? "table, " : "", "json or yaml",
                               " (default: ", *value, ")"));
}

}  // namespace berth::ctl
