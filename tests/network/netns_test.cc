#include "network/netns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "base/file.h"

namespace berth::network {
namespace {

std::string RunCommand(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  std::string output;
  if (!pipe) return output;
  std::array<char, 4096> buffer;
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) output.append(buffer.data(), n);
  return output;
}

class PinnedNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    char pattern[] = "/tmp/berth-netns-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/ns";
  }
  void TearDown() override {
    if (dir_.empty()) return;
    (void)RemovePinnedNetns(path_);
    (void)RemoveAll(dir_);
  }
  std::string dir_;
  std::string path_;
};

TEST_F(PinnedNetnsTest, CreateHasLoopbackUpOnly) {
  ASSERT_TRUE(CreatePinnedNetns(path_).ok());
  EXPECT_TRUE(IsPinnedNetns(path_));

  std::string links = RunCommand("nsenter --net=" + path_ + " ip -o link show");
  EXPECT_NE(links.find("1: lo:"), std::string::npos) << links;
  EXPECT_NE(links.find("UP"), std::string::npos) << links;
  EXPECT_EQ(links.find("2:"), std::string::npos) << "only loopback expected: " << links;
}

TEST_F(PinnedNetnsTest, SecondCreateIsAlreadyExists) {
  ASSERT_TRUE(CreatePinnedNetns(path_).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(CreatePinnedNetns(path_)));
}

TEST_F(PinnedNetnsTest, RemoveUnpinsAndIsIdempotent) {
  ASSERT_TRUE(CreatePinnedNetns(path_).ok());
  ASSERT_TRUE(RemovePinnedNetns(path_).ok());
  EXPECT_FALSE(PathExists(path_));
  EXPECT_TRUE(RemovePinnedNetns(path_).ok());
  std::string mounts = RunCommand("grep -c " + path_ + " /proc/self/mountinfo");
  EXPECT_EQ(mounts, "0\n");
}

}  // namespace
}  // namespace berth::network
