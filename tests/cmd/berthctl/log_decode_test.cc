#include "cmd/berthctl/log_decode.h"

#include <gtest/gtest.h>

namespace berth::ctl {
namespace {

constexpr char kTime1[] = "2024-05-01T10:20:30.123456789Z";
constexpr char kTime2[] = "2024-05-01T10:20:31.000000001Z";

TEST(ParseCriLogLineTest, ReadsFullAndPartialLines) {
  absl::StatusOr<LogLine> line =
      ParseCriLogLine(std::string(kTime1) + " stdout F hello  world ");
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->timestamp, kTime1);
  EXPECT_EQ(line->stream, LogStream::kStdout);
  EXPECT_FALSE(line->partial);
  EXPECT_EQ(line->content, "hello  world ");

  line = ParseCriLogLine(std::string(kTime1) + " stderr P part");
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->stream, LogStream::kStderr);
  EXPECT_TRUE(line->partial);
  EXPECT_EQ(line->content, "part");
}

TEST(ParseCriLogLineTest, ReadsEmptyContentAndExtraTags) {
  absl::StatusOr<LogLine> line = ParseCriLogLine(std::string(kTime1) + " stdout F ");
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->content, "");

  line = ParseCriLogLine(std::string(kTime1) + " stdout F");
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->content, "");

  line = ParseCriLogLine(std::string(kTime1) + " stdout P:x text");
  ASSERT_TRUE(line.ok());
  EXPECT_TRUE(line->partial);
  EXPECT_EQ(line->content, "text");
}

TEST(ParseCriLogLineTest, RejectsMalformedLines) {
  EXPECT_FALSE(ParseCriLogLine("hello").ok());
  EXPECT_FALSE(ParseCriLogLine(std::string(kTime1) + " stdin F x").ok());
  EXPECT_FALSE(ParseCriLogLine(std::string(kTime1) + " stdout X x").ok());
  EXPECT_FALSE(ParseCriLogLine(std::string(kTime1) + " stdout").ok());
  EXPECT_FALSE(ParseCriLogLine(" stdout F x").ok());
}

TEST(DecodeCriLogTest, JoinsPartialLinesPerStream) {
  const std::string text = std::string(kTime1) + " stdout P hel\n" +       //
                           kTime1 + " stderr F oops\n" +                   //
                           kTime2 + " stdout P lo \n" +                    //
                           kTime2 + " stdout F world\n" +                  //
                           "garbage\n" +                                   //
                           kTime2 + " stdout F last";
  const DecodedLog log = DecodeCriLog(text);
  EXPECT_EQ(log.malformed_lines, 1u);
  ASSERT_EQ(log.entries.size(), 3u);
  EXPECT_EQ(log.entries[0].stream, LogStream::kStderr);
  EXPECT_EQ(log.entries[0].content, "oops");
  EXPECT_EQ(log.entries[1].stream, LogStream::kStdout);
  EXPECT_EQ(log.entries[1].content, "hello world");
  EXPECT_EQ(log.entries[1].timestamp, kTime1);  // the time of the first piece
  EXPECT_TRUE(log.entries[1].complete);
  EXPECT_EQ(log.entries[2].content, "last");
}

TEST(DecodeCriLogTest, UnfinishedPartialLineIsMarkedIncomplete) {
  const DecodedLog log = DecodeCriLog(std::string(kTime1) + " stdout P no end yet\n");
  ASSERT_EQ(log.entries.size(), 1u);
  EXPECT_EQ(log.entries[0].content, "no end yet");
  EXPECT_FALSE(log.entries[0].complete);
  EXPECT_EQ(FormatLogEntry(log.entries[0], false), "no end yet");
}

TEST(LogDecoderTest, HandlesLinesSplitAcrossReads) {
  LogDecoder decoder;
  const std::string line = std::string(kTime1) + " stdout F split line\n";
  EXPECT_TRUE(decoder.Feed(line.substr(0, 10)).empty());
  EXPECT_TRUE(decoder.Feed(line.substr(10, 20)).empty());
  std::vector<LogEntry> entries = decoder.Feed(line.substr(30));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].content, "split line");

  // A partial line waits for its end across reads, and Finish() flushes it.
  EXPECT_TRUE(decoder.Feed(std::string(kTime2) + " stderr P abc\n").empty());
  entries = decoder.Finish();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].content, "abc");
  EXPECT_FALSE(entries[0].complete);
  EXPECT_EQ(decoder.malformed_lines(), 0u);
}

TEST(KeepLastEntriesTest, KeepsTheTail) {
  std::vector<LogEntry> entries(5);
  for (size_t i = 0; i < entries.size(); ++i) entries[i].content = std::to_string(i);
  std::vector<LogEntry> all = entries;
  KeepLastEntries(&all, -1);
  EXPECT_EQ(all.size(), 5u);
  KeepLastEntries(&all, 10);
  EXPECT_EQ(all.size(), 5u);
  KeepLastEntries(&entries, 2);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].content, "3");
  KeepLastEntries(&entries, 0);
  EXPECT_TRUE(entries.empty());
}

TEST(FormatLogEntryTest, AddsTimestampWhenAsked) {
  LogEntry entry{kTime1, LogStream::kStdout, "hi", true};
  EXPECT_EQ(FormatLogEntry(entry, false), "hi\n");
  EXPECT_EQ(FormatLogEntry(entry, true), std::string(kTime1) + " hi\n");
}

}  // namespace
}  // namespace berth::ctl
