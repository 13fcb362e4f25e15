#include "network/cni_config.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "temp_dir.h"

namespace berth::network {
namespace {

constexpr char kList[] = R"({"cniVersion":"1.0.0","name":"pods","plugins":[
  {"type":"bridge","bridge":"br0"},{"type":"portmap","capabilities":{"portMappings":true}}]})";

TEST(ParseCniConfig, ReadsAConflist) {
  auto config = ParseCniConfig(kList, "/d/10-pods.conflist");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name, "pods");
  EXPECT_EQ(config->cni_version, "1.0.0");
  ASSERT_EQ(config->plugins.size(), 2u);
  EXPECT_EQ(config->Type(0), "bridge");
  EXPECT_EQ(config->Type(1), "portmap");
  EXPECT_EQ(config->plugins[0]["bridge"], "br0");
}

TEST(ParseCniConfig, SinglePluginFileIsAListOfOne) {
  auto config = ParseCniConfig(R"({"cniVersion":"0.4.0","name":"n","type":"ptp"})", "/d/a.conf");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->plugins.size(), 1u);
  EXPECT_EQ(config->Type(0), "ptp");
}

TEST(ParseCniConfig, RejectsBadInputNamingFileAndField) {
  struct Case {
    const char* text;
    const char* path;
    const char* expected;
  } cases[] = {
      {"{not json", "/d/x.conflist", "not valid JSON"},
      {R"({"cniVersion":"1.0.0","plugins":[{"type":"a"}]})", "/d/x.conflist", "\"name\""},
      {R"({"name":"n","plugins":[{"type":"a"}]})", "/d/x.conflist", "\"cniVersion\""},
      {R"({"name":"n","cniVersion":"9.9.9","plugins":[{"type":"a"}]})", "/d/x.conflist",
       "cniVersion \"9.9.9\""},
      {R"({"name":"n","cniVersion":"1.0.0","plugins":[]})", "/d/x.conflist", "\"plugins\""},
      {R"({"name":"n","cniVersion":"1.0.0","plugins":[{"bridge":"x"}]})", "/d/x.conflist",
       "plugin 0 has no \"type\""},
      {R"({"name":"n","cniVersion":"1.0.0","type":"../../bin/sh"})", "/d/x.conf",
       "not a file name"},
  };
  for (const Case& c : cases) {
    auto config = ParseCniConfig(c.text, c.path);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(c.path), std::string::npos) << config.status();
    EXPECT_NE(config.status().message().find(c.expected), std::string::npos) << config.status();
  }
}

TEST(LoadCniConfig, LowestNameWinsAndOtherFilesAreIgnored) {
  TempDir dir;
  ASSERT_TRUE(WriteFile(dir.Sub("20-b.conflist"),
                        R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"x"}]})").ok());
  ASSERT_TRUE(WriteFile(dir.Sub("10-a.conf"), R"({"cniVersion":"1.0.0","name":"a","type":"y"})").ok());
  ASSERT_TRUE(WriteFile(dir.Sub("00-readme.txt"), "not a config").ok());
  ASSERT_TRUE(WriteFile(dir.Sub(".05-hidden.conf"), "{").ok());
  auto config = LoadCniConfig(dir.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name, "a");
  EXPECT_EQ(ListCniConfigFiles(dir.path()).size(), 2u);
}

TEST(LoadCniConfig, EmptyOrMissingDirectoryIsNotFound) {
  TempDir dir;
  auto config = LoadCniConfig(dir.path());
  EXPECT_TRUE(absl::IsNotFound(config.status())) << config.status();
  EXPECT_NE(config.status().message().find(dir.path()), std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(LoadCniConfig(dir.Sub("missing")).status()));
}

}  // namespace
}  // namespace berth::network
