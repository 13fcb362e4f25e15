#include "cmd/berthctl/flags.h"

#include <gtest/gtest.h>

namespace berth::ctl {
namespace {

using std::chrono::milliseconds;

struct Bound {
  bool all = false;
  bool quiet = false;
  std::string name;
  int64_t tail = -1;
  milliseconds timeout{2000};
  std::vector<std::string> labels;
};

void Declare(FlagSet& flags, Bound* bound) {
  flags.AddBool("all", 'a', &bound->all, "all");
  flags.AddBool("quiet", 'q', &bound->quiet, "quiet");
  flags.AddString("name", 0, &bound->name, "NAME", "name");
  flags.AddInt("tail", 'n', &bound->tail, "N", "tail");
  flags.AddDuration("timeout", 't', &bound->timeout, "timeout");
  flags.AddStringList("label", 'l', &bound->labels, "KEY=VALUE", "label");
}

TEST(FlagSetTest, ParsesLongFormsAndKeepsPositionals) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  auto positional = flags.Parse({"one", "--all", "--name", "web", "two", "--tail=5",
                                 "--timeout", "1m30s", "--label", "a=b", "--label=c=d"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(*positional, (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(bound.all);
  EXPECT_EQ(bound.name, "web");
  EXPECT_EQ(bound.tail, 5);
  EXPECT_EQ(bound.timeout, milliseconds(90000));
  EXPECT_EQ(bound.labels, (std::vector<std::string>{"a=b", "c=d"}));
}

TEST(FlagSetTest, ParsesShortClustersAndAttachedValues) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  auto positional = flags.Parse({"-aq", "-n3", "-t", "500ms", "-l", "x=y"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_TRUE(positional->empty());
  EXPECT_TRUE(bound.all);
  EXPECT_TRUE(bound.quiet);
  EXPECT_EQ(bound.tail, 3);
  EXPECT_EQ(bound.timeout, milliseconds(500));
  EXPECT_EQ(bound.labels, (std::vector<std::string>{"x=y"}));
}

TEST(FlagSetTest, ClusterEndsWithValueFlag) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  ASSERT_TRUE(flags.Parse({"-an", "7"}).ok());
  EXPECT_TRUE(bound.all);
  EXPECT_EQ(bound.tail, 7);
}

TEST(FlagSetTest, ValueMayStartWithDash) {
  FlagSet flags;
  Bound bound;
  bound.tail = 0;
  Declare(flags, &bound);
  ASSERT_TRUE(flags.Parse({"--tail", "-1"}).ok());
  EXPECT_EQ(bound.tail, -1);
}

TEST(FlagSetTest, BoolTakesExplicitValue) {
  FlagSet flags;
  Bound bound;
  bound.all = true;
  Declare(flags, &bound);
  ASSERT_TRUE(flags.Parse({"--all=false"}).ok());
  EXPECT_FALSE(bound.all);
  EXPECT_FALSE(flags.Parse({"--all=maybe"}).ok());
}

TEST(FlagSetTest, DoubleDashEndsFlags) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  auto positional = flags.Parse({"--all", "--", "--quiet", "-n"});
  ASSERT_TRUE(positional.ok());
  EXPECT_EQ(*positional, (std::vector<std::string>{"--quiet", "-n"}));
  EXPECT_FALSE(bound.quiet);
}

TEST(FlagSetTest, StopsAtFirstPositionalWhenAsked) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  flags.set_stop_at_first_positional(true);
  auto positional = flags.Parse({"-a", "abc123", "ls", "-la", "--all"});
  ASSERT_TRUE(positional.ok());
  EXPECT_EQ(*positional, (std::vector<std::string>{"abc123", "ls", "-la", "--all"}));
  EXPECT_TRUE(bound.all);
}

TEST(FlagSetTest, LoneDashIsPositional) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  auto positional = flags.Parse({"-"});
  ASSERT_TRUE(positional.ok());
  EXPECT_EQ(*positional, (std::vector<std::string>{"-"}));
}

TEST(FlagSetTest, ReportsErrorsNamingTheFlag) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  auto unknown = flags.Parse({"--bogus"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unknown flag --bogus");

  EXPECT_EQ(flags.Parse({"-x"}).status().message(), "unknown flag -x");
  EXPECT_EQ(flags.Parse({"--name"}).status().message(), "flag --name needs a value (NAME)");
  EXPECT_EQ(flags.Parse({"-n"}).status().message(), "flag -n (--tail) needs a value (N)");
  EXPECT_EQ(flags.Parse({"--tail", "ten"}).status().message(),
            "flag --tail: expected an integer, got \"ten\"");
  EXPECT_NE(flags.Parse({"--timeout", "soon"}).status().message().find("flag --timeout"),
            std::string::npos);
}

TEST(FlagSetTest, HelpStopsParsing) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  ASSERT_TRUE(flags.Parse({"--help", "--bogus"}).ok());
  EXPECT_TRUE(flags.help_requested());

  FlagSet short_flags;
  Declare(short_flags, &bound);
  ASSERT_TRUE(short_flags.Parse({"-h"}).ok());
  EXPECT_TRUE(short_flags.help_requested());
}

TEST(FlagSetTest, UsageListsEveryFlagAligned) {
  FlagSet flags;
  Bound bound;
  Declare(flags, &bound);
  const std::string usage = flags.Usage();
  EXPECT_NE(usage.find("  -a, --all" + std::string(16, ' ') + "all\n"), std::string::npos) << usage;
  EXPECT_NE(usage.find("      --name NAME" + std::string(10, ' ') + "name\n"), std::string::npos) << usage;
  EXPECT_NE(usage.find("  -t, --timeout DURATION   timeout\n"), std::string::npos) << usage;
  EXPECT_NE(usage.find("  -h, --help" + std::string(15, ' ') + "show this help\n"), std::string::npos);
}

TEST(FlagSetTest, UsageWrapsLongHelp) {
  FlagSet flags;
  bool value = false;
  flags.AddBool("x", 0, &value, std::string(60, 'a') + " " + std::string(60, 'b'));
  const std::string usage = flags.Usage();
  EXPECT_NE(usage.find(std::string(60, 'a') + "\n" + std::string(15, ' ') +
                       std::string(60, 'b') + "\n"),
            std::string::npos)
      << usage;
}

TEST(ParseDurationTest, ReadsGoDurations) {
  EXPECT_EQ(*ParseDuration("2s"), milliseconds(2000));
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("1m30s"), milliseconds(90000));
  EXPECT_EQ(*ParseDuration("1.5h"), milliseconds(5400000));
  EXPECT_EQ(*ParseDuration("1500us"), milliseconds(1));
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("10"), milliseconds(10000));
  EXPECT_EQ(*ParseDuration("0.5"), milliseconds(500));
}

TEST(ParseDurationTest, RejectsBadText) {
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_FALSE(ParseDuration("5 s").ok());
  EXPECT_FALSE(ParseDuration("3d").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
  EXPECT_FALSE(ParseDuration("1s2").ok());
}

TEST(FormatDurationTest, RoundTrips) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(2000)), "2s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.500s");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(30)), "30m");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(122)), "2h2m");
  for (int64_t ms : {1, 999, 1000, 1001, 61001, 3600000, 3723004}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

}  // namespace
}  // namespace berth::ctl
