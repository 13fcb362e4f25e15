// deploy/make-test-image.sh pushes a busybox image that Berth pulls and unpacks like the one
// the tests build in memory.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"
#include "image/image_store.h"

namespace berth::image {
namespace {

// Runs `command` with /bin/sh and returns its standard output, or nullopt when it fails.
std::optional<std::string> RunShell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  if (::pclose(pipe) != 0) return std::nullopt;
  return output;
}

TEST(MakeTestImageScript, PushesPullableBusybox) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const char* source_dir = BERTH_SOURCE_DIR;

  auto registry = e2e::TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  std::string reference = absl::StrCat((*registry)->host(), "/demo/busybox:v1");
  auto printed = RunShell(absl::StrCat("bash ", source_dir, "/deploy/make-test-image.sh ", reference));
  ASSERT_TRUE(printed.has_value());
  std::string digest = printed->substr(0, printed->find('\n'));
  EXPECT_TRUE(digest.starts_with("sha256:")) << *printed;

  char temp[] = "/tmp/berth-image-e2e-XXXXXX";
  ASSERT_NE(::mkdtemp(temp), nullptr);
  {
    auto store = ImageStore::Open(ImageStoreOptions::AtRoot(JoinPath(temp, "root")));
    ASSERT_TRUE(store.ok()) << store.status();
    auto record = (*store)->Pull(reference);
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->manifest_digest, digest);
    EXPECT_EQ(record->config.cmd, std::vector<std::string>{"sh"});
    ASSERT_EQ(record->LayerDirs().size(), 1u);

    std::string fs = record->LayerDirs()[0];
    EXPECT_EQ(*ReadFile(JoinPath(fs, "bin/busybox")), *ReadFile(e2e::kHostBusybox));
    struct stat st;
    ASSERT_EQ(::lstat(JoinPath(fs, "bin/sh").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(::lstat(JoinPath(fs, "tmp").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 01777u);
    ASSERT_EQ(::lstat(JoinPath(fs, "etc/passwd").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
  }
  (void)RemoveAll(temp);

  // Pushing again reuses the blobs and prints the same digest: the build is reproducible.
  auto again = RunShell(absl::StrCat("bash ", source_dir, "/deploy/make-test-image.sh ", reference));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *printed);
}

}  // namespace
}  // namespace berth::image
