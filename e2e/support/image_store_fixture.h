// A GoogleTest fixture for image-store tests against a real registry: a temporary folder, a
// docker-registry on loopback and an ImageStore rooted in the folder. Tests need root.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/registry.h"
#include "image/image_store.h"

namespace berth::e2e {

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const char* base = std::getenv("TMPDIR");
    temp_ = JoinPath(base && *base ? base : "/tmp", "berth-image-e2e-XXXXXX");
    ASSERT_NE(::mkdtemp(temp_.data()), nullptr);
    root_ = JoinPath(temp_, "root");
    auto registry = TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    auto store = image::ImageStore::Open(image::ImageStoreOptions::AtRoot(root_));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void TearDown() override {
    store_.reset();
    registry_.reset();
    if (!temp_.empty()) (void)RemoveAll(temp_);
  }

  // Returns "<registry host>/<repo_tag>".
  std::string Ref(const std::string& repo_tag) const {
    return absl::StrCat(registry_->host(), "/", repo_tag);
  }

  std::string temp_;
  std::string root_;
  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<image::ImageStore> store_;
};

}  // namespace berth::e2e
