#include "runtime/linux/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace berth::runtime {
namespace {

TEST(MountOptionsTest, SplitsFlagsAndData) {
  ParsedMountOptions parsed =
      ParseMountOptions({"nosuid", "ro", "mode=755", "rprivate", "size=1m"});
  EXPECT_EQ(parsed.flags, static_cast<unsigned long>(MS_NOSUID | MS_RDONLY));
  EXPECT_EQ(parsed.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(parsed.data, "mode=755,size=1m");
  EXPECT_FALSE(parsed.bind);
}

TEST(MountOptionsTest, LaterOptionWins) {
  ParsedMountOptions parsed = ParseMountOptions({"ro", "rw", "rbind"});
  EXPECT_EQ(parsed.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_TRUE(parsed.bind);
}

TEST(MountOptionsTest, RootPropagation) {
  EXPECT_EQ(RootPropagationFlags(""), static_cast<unsigned long>(MS_REC | MS_PRIVATE));
  EXPECT_EQ(RootPropagationFlags("rslave"), static_cast<unsigned long>(MS_REC | MS_SLAVE));
  EXPECT_EQ(RootPropagationFlags("private"), static_cast<unsigned long>(MS_PRIVATE));
}

TEST(MountOptionsTest, ShortOverlayUnchanged) {
  auto fit = FitOverlayData("lowerdir=/a:/b,upperdir=/c,workdir=/d", 4096);
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->data, "lowerdir=/a:/b,upperdir=/c,workdir=/d");
  EXPECT_TRUE(fit->chdir.empty());
}

TEST(MountOptionsTest, OverlayTooLongEvenRelative) {
  std::string lower = "lowerdir=";
  for (int i = 0; i < 2000; ++i) lower += (i ? ":/x/" : "/x/") + std::to_string(i);
  auto fit = FitOverlayData(lower + ",upperdir=/y/u,workdir=/y/w", 4096);
  ASSERT_FALSE(fit.ok());
  EXPECT_EQ(fit.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(fit.status().message().find("4095"), std::string::npos) << fit.status();
}

}  // namespace
}  // namespace berth::runtime
