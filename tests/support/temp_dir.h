// A temporary directory for one test, deleted with everything in it when the test ends.
#pragma once

#include <stdlib.h>

#include <string>

#include "base/file.h"

namespace berth::test_support {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    path_ = JoinPath(base && *base ? base : "/tmp", "berth-test-XXXXXX");
    if (::mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return JoinPath(path_, name); }

 private:
  std::string path_;
};

}  // namespace berth::test_support
