// Pinned user namespaces and the network namespaces they own. The tests need root, so they are
// skipped for other users.
#include "network/userns.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/fd.h"
#include "base/file.h"
#include "network/netns.h"
#include "support/temp_dir.h"

namespace berth::network {
namespace {

using test_support::TempDir;

constexpr char kUidMap[] = "0 100000 65536\n";
constexpr char kGidMap[] = "0 200000 1000\n1000 300000 64536\n";

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Runs `body` in a forked child and returns the text it wrote. The child has a single thread,
// which setns into a user namespace requires.
template <typename Body>
std::string InChild(Body body) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return "pipe failed";
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    read_end.Reset();
    std::string out = body();
    (void)!::write(write_end.get(), out.data(), out.size());
    ::_exit(0);
  }
  write_end.Reset();
  std::string out;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(read_end.get(), buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return out;
}

std::string ReadAll(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::string("open ") + path + ": " + std::strerror(errno);
  std::string out;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(fd.get(), buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  return out;
}

// Returns the uid_map and gid_map seen from inside the namespace at `path`, separated by "|",
// with the padding of each line squeezed to single spaces.
std::string MapsInside(const std::string& path) {
  return InChild([&]() -> std::string {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::string("open: ") + std::strerror(errno);
    if (::setns(fd.get(), CLONE_NEWUSER) != 0) return std::string("setns: ") + std::strerror(errno);
    std::string raw = ReadAll("/proc/self/uid_map") + "|" + ReadAll("/proc/self/gid_map");
    std::string squeezed;
    for (char c : raw) {
      bool blank = c == ' ' || c == '\t';
      if (blank && (squeezed.empty() || squeezed.back() == ' ' || squeezed.back() == '\n' ||
                    squeezed.back() == '|')) {
        continue;
      }
      squeezed.push_back(blank ? ' ' : c);
    }
    return squeezed;
  });
}

// Returns "up" when loopback is up in the network namespace at `path`.
std::string LoopbackIn(const std::string& path) {
  return InChild([&]() -> std::string {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::string("open: ") + std::strerror(errno);
    if (::setns(fd.get(), CLONE_NEWNET) != 0) return std::string("setns: ") + std::strerror(errno);
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) return std::string("socket: ") + std::strerror(errno);
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) {
      return std::string("SIOCGIFFLAGS: ") + std::strerror(errno);
    }
    return (ifr.ifr_flags & IFF_UP) ? "up" : "down";
  });
}

class PinnedUsernsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_FALSE(dir_.path().empty());
    userns_ = dir_.Sub("user");
    netns_ = dir_.Sub("net");
  }
  void TearDown() override {
    if (dir_.path().empty()) return;
    EXPECT_TRUE(RemovePinnedNetns(netns_).ok());
    EXPECT_TRUE(RemovePinnedUserns(userns_).ok());
  }

  TempDir dir_;
  std::string userns_;
  std::string netns_;
};

TEST_F(PinnedUsernsTest, PinsBothNamespaces) {
  absl::Status created = CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap);
  ASSERT_TRUE(created.ok()) << created;
  EXPECT_TRUE(IsPinnedNetns(userns_)) << "an nsfs mount";
  EXPECT_TRUE(IsPinnedNetns(netns_));

  UniqueFd user(::open(userns_.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd net(::open(netns_.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(user) << std::strerror(errno);
  ASSERT_TRUE(net) << std::strerror(errno);
  EXPECT_EQ(::ioctl(user.get(), NS_GET_NSTYPE), CLONE_NEWUSER);
  EXPECT_EQ(::ioctl(net.get(), NS_GET_NSTYPE), CLONE_NEWNET);

  // The network namespace belongs to the pinned user namespace.
  UniqueFd owner(::ioctl(net.get(), NS_GET_USERNS));
  ASSERT_TRUE(owner) << std::strerror(errno);
  struct stat owner_st, user_st, host_st;
  ASSERT_EQ(::fstat(owner.get(), &owner_st), 0);
  ASSERT_EQ(::fstat(user.get(), &user_st), 0);
  EXPECT_TRUE(SameFile(owner_st, user_st));
  ASSERT_EQ(::stat("/proc/self/ns/user", &host_st), 0);
  EXPECT_FALSE(SameFile(user_st, host_st)) << "a new user namespace, not the host's";

  // The parent of the pinned user namespace is the host's.
  UniqueFd parent(::ioctl(user.get(), NS_GET_PARENT));
  ASSERT_TRUE(parent) << std::strerror(errno);
  struct stat parent_st;
  ASSERT_EQ(::fstat(parent.get(), &parent_st), 0);
  EXPECT_TRUE(SameFile(parent_st, host_st));
}

TEST_F(PinnedUsernsTest, MappingsAreAsGiven) {
  ASSERT_TRUE(CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap).ok());
  EXPECT_EQ(MapsInside(userns_), "0 100000 65536\n|0 200000 1000\n1000 300000 64536\n");
}

TEST_F(PinnedUsernsTest, NetnsHasLoopbackUp) {
  ASSERT_TRUE(CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap).ok());
  EXPECT_EQ(LoopbackIn(netns_), "up");
}

TEST_F(PinnedUsernsTest, WithoutNetnsPinsUsernsOnly) {
  ASSERT_TRUE(CreatePinnedUserns(userns_, "", kUidMap, kGidMap).ok());
  EXPECT_TRUE(IsPinnedNetns(userns_));
  EXPECT_FALSE(PathExists(netns_));
  EXPECT_EQ(MapsInside(userns_), "0 100000 65536\n|0 200000 1000\n1000 300000 64536\n");
}

TEST_F(PinnedUsernsTest, ExistingUsernsPathAlreadyExists) {
  ASSERT_TRUE(WriteFile(userns_, "keep").ok());
  absl::Status status = CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap);
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_NE(status.message().find(userns_), std::string::npos) << status;
  EXPECT_FALSE(IsPinnedNetns(userns_));
  EXPECT_EQ(ReadAll(userns_.c_str()), "keep") << "the existing file is left as it was";
  EXPECT_FALSE(PathExists(netns_));
}

TEST_F(PinnedUsernsTest, ExistingNetnsPathLeavesNothing) {
  ASSERT_TRUE(WriteFile(netns_, "keep").ok());
  absl::Status status = CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap);
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_NE(status.message().find(netns_), std::string::npos) << status;
  EXPECT_FALSE(PathExists(userns_)) << "the user namespace made first is unpinned again";
  EXPECT_FALSE(IsPinnedNetns(netns_));
  EXPECT_EQ(ReadAll(netns_.c_str()), "keep");
}

TEST_F(PinnedUsernsTest, SecondCreateIsAlreadyExists) {
  ASSERT_TRUE(CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap).ok());
  absl::Status again = CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap);
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_TRUE(IsPinnedNetns(userns_)) << "the first pin stays";
  EXPECT_TRUE(IsPinnedNetns(netns_));
}

TEST_F(PinnedUsernsTest, BadMapFailsAndLeavesNothing) {
  absl::Status status = CreatePinnedUserns(userns_, netns_, "not a map\n", kGidMap);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("uid_map"), std::string::npos) << status;
  EXPECT_FALSE(PathExists(userns_));
  EXPECT_FALSE(PathExists(netns_));
}

TEST_F(PinnedUsernsTest, RemoveTwiceIsFine) {
  ASSERT_TRUE(CreatePinnedUserns(userns_, netns_, kUidMap, kGidMap).ok());
  ASSERT_TRUE(RemovePinnedNetns(netns_).ok());
  ASSERT_TRUE(RemovePinnedUserns(userns_).ok());
  EXPECT_FALSE(PathExists(userns_));
  EXPECT_TRUE(RemovePinnedUserns(userns_).ok());
  EXPECT_EQ(ReadAll("/proc/self/mountinfo").find(dir_.path()), std::string::npos)
      << "no mount left below the test directory";
}

}  // namespace
}  // namespace berth::network
