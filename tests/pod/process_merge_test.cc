#include "pod/process_merge.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::pod {
namespace {

using Args = std::vector<std::string>;

TEST(MergeArgs, ImageDefaultsWhenConfigIsEmpty) {
  auto args = MergeArgs({"/entry"}, {"serve", "--port=80"}, {}, {});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (Args{"/entry", "serve", "--port=80"}));
}

TEST(MergeArgs, CommandReplacesEntrypointAndDropsCmd) {
  auto args = MergeArgs({"/entry"}, {"serve"}, {"sh", "-c"}, {});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (Args{"sh", "-c"}));
}

TEST(MergeArgs, CommandAndArgs) {
  auto args = MergeArgs({"/entry"}, {"serve"}, {"sh"}, {"-c", "echo hi"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (Args{"sh", "-c", "echo hi"}));
}

TEST(MergeArgs, ArgsReplaceCmdKeepEntrypoint) {
  auto args = MergeArgs({"/entry"}, {"serve"}, {}, {"check"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (Args{"/entry", "check"}));
}

TEST(MergeArgs, NothingAtAllIsInvalid) {
  auto args = MergeArgs({}, {}, {}, {});
  EXPECT_TRUE(absl::IsInvalidArgument(args.status()));
  EXPECT_NE(args.status().message().find("no command specified"), absl::string_view::npos);
}

TEST(MergeEnv, OverridesInPlaceAndAppends) {
  auto env = MergeEnv({"PATH=/bin", "HOME=/root"}, {{"HOME", "/home/app"}, {"MODE", "prod"}});
  EXPECT_EQ(env, (Args{"PATH=/bin", "HOME=/home/app", "MODE=prod"}));
}

TEST(MergeEnv, KeyPrefixIsNotAMatch) {
  auto env = MergeEnv({"PATHS=a"}, {{"PATH", "/bin"}});
  EXPECT_EQ(env, (Args{"PATHS=a", "PATH=/bin"}));
}

TEST(MergeWorkingDir, ConfigThenImageThenRoot) {
  EXPECT_EQ(MergeWorkingDir("/app", "/work"), "/work");
  EXPECT_EQ(MergeWorkingDir("/app", ""), "/app");
  EXPECT_EQ(MergeWorkingDir("", ""), "/");
}

}  // namespace
}  // namespace berth::pod
