#include "runtime/shim/cri_log.h"

#include <gtest/gtest.h>

#include "runtime/container_state.h"

namespace berth::runtime {
namespace {

// 2024-05-01T10:20:30.000000123Z
constexpr int64_t kTime = 1714558830000000123;

class SplitterTest : public ::testing::Test {
 protected:
  CriLineSplitter Make(LogStream stream, size_t max = CriLineSplitter::kMaxLineSize) {
    return CriLineSplitter(
        stream, [this](const std::string& line) { lines_.push_back(line); }, max);
  }
  std::vector<std::string> lines_;
};

TEST(CriLogTest, FormatsLine) {
  EXPECT_EQ(FormatCriLogLine(kTime, LogStream::kStdout, false, "hello"),
            "2024-05-01T10:20:30.000000123Z stdout F hello\n");
  EXPECT_EQ(FormatCriLogLine(kTime, LogStream::kStderr, true, ""),
            "2024-05-01T10:20:30.000000123Z stderr P \n");
}

TEST_F(SplitterTest, FullLinesAcrossReads) {
  CriLineSplitter splitter = Make(LogStream::kStdout);
  splitter.Feed("hel", 3, kTime);
  EXPECT_TRUE(lines_.empty());
  splitter.Feed("lo\nworld\n\nx", 11, kTime);
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(lines_[0], "2024-05-01T10:20:30.000000123Z stdout F hello\n");
  EXPECT_EQ(lines_[1], "2024-05-01T10:20:30.000000123Z stdout F world\n");
  EXPECT_EQ(lines_[2], "2024-05-01T10:20:30.000000123Z stdout F \n");
}

TEST_F(SplitterTest, UnterminatedTailIsPartialAtEnd) {
  CriLineSplitter splitter = Make(LogStream::kStderr);
  splitter.Feed("no newline", 10, kTime);
  EXPECT_TRUE(lines_.empty());
  splitter.Finish(kTime);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0], "2024-05-01T10:20:30.000000123Z stderr P no newline\n");
  splitter.Finish(kTime);
  EXPECT_EQ(lines_.size(), 1u);
}

TEST_F(SplitterTest, LongLineSplitAtMaxSize) {
  CriLineSplitter splitter = Make(LogStream::kStdout, 4);
  std::string data = "abcdefghij\n";
  splitter.Feed(data.data(), data.size(), kTime);
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_NE(lines_[0].find(" stdout P abcd\n"), std::string::npos);
  EXPECT_NE(lines_[1].find(" stdout P efgh\n"), std::string::npos);
  EXPECT_NE(lines_[2].find(" stdout F ij\n"), std::string::npos);
}

TEST_F(SplitterTest, LineOfExactlyMaxSizeIsFull) {
  CriLineSplitter splitter = Make(LogStream::kStdout, 4);
  splitter.Feed("abcd\n", 5, kTime);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find(" stdout F abcd\n"), std::string::npos);
}

TEST_F(SplitterTest, DefaultMaxIs16KiB) {
  CriLineSplitter splitter = Make(LogStream::kStdout);
  std::string data(16 * 1024 + 10, 'x');
  splitter.Feed(data.data(), data.size(), kTime);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find(" stdout P " + std::string(16 * 1024, 'x') + "\n"), std::string::npos);
  splitter.Finish(kTime);
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_NE(lines_[1].find(" stdout P xxxxxxxxxx\n"), std::string::npos);
}

TEST(ContainerStateTest, JsonRoundTrip) {
  ContainerState state;
  state.id = "c1";
  state.status = ContainerStatus::kStopped;
  state.pid = 42;
  state.exit_code = 137;
  state.signal = 9;
  state.created_at = 1;
  state.started_at = 2;
  state.finished_at = 3;
  state.oom_killed = true;
  state.reason = "OOMKilled";
  auto parsed = StateFromJson(StateToJson(state));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(StateToJson(*parsed), StateToJson(state));
  EXPECT_EQ(StateToJson(state)["status"], "stopped");
}

}  // namespace
}  // namespace berth::runtime
