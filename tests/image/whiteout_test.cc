#include "image/whiteout.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

struct Case {
  std::string tar_path;
  EntryKind kind;
  std::string path;
};

TEST(ClassifyEntry, Table) {
  const std::vector<Case> cases = {
      {"bin/sh", EntryKind::kExtract, "bin/sh"},
      {"./bin/sh", EntryKind::kExtract, "bin/sh"},
      {"etc/", EntryKind::kExtract, "etc"},
      {"./", EntryKind::kExtract, ""},
      {".", EntryKind::kExtract, ""},
      {"a//b/./c", EntryKind::kExtract, "a/b/c"},
      {".wh.foo", EntryKind::kWhiteout, "foo"},
      {"etc/.wh.passwd", EntryKind::kWhiteout, "etc/passwd"},
      {"./a/b/.wh..hidden", EntryKind::kWhiteout, "a/b/.hidden"},
      {"etc/.wh..wh..opq", EntryKind::kOpaque, "etc"},
      {".wh..wh..opq", EntryKind::kOpaque, ""},
      {"./.wh..wh.plnk/1.2", EntryKind::kSkip, ".wh..wh.plnk/1.2"},
      {".wh..wh.aufs", EntryKind::kSkip, ".wh..wh.aufs"},
      {"x/.wh..wh.orph", EntryKind::kSkip, "x/.wh..wh.orph"},
      {"a.wh.b", EntryKind::kExtract, "a.wh.b"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tar_path);
    auto entry = ClassifyEntry(c.tar_path);
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(entry->kind, c.kind);
    EXPECT_EQ(entry->path, c.path);
  }
}

TEST(ClassifyEntry, RejectsEscapes) {
  for (const std::string bad : {"/etc/passwd", "../x", "a/../../x", "a/..", "./..",
                                "a/.wh..", "a/.wh...", ".wh."}) {
    SCOPED_TRACE(bad);
    auto entry = ClassifyEntry(bad);
    ASSERT_FALSE(entry.ok());
    EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(entry.status().message()).find(bad), std::string::npos);
  }
}

TEST(CleanEntryPath, DropsDotsAndSlashes) {
  EXPECT_EQ(*CleanEntryPath("./a/./b//c/"), "a/b/c");
  EXPECT_EQ(*CleanEntryPath(""), "");
  EXPECT_FALSE(CleanEntryPath("//a").ok());
}

}  // namespace
}  // namespace berth::image
