#include "image/pull_progress.h"

#include <vector>

#include <gtest/gtest.h>

namespace berth::image {
namespace {

TEST(BlobProgress, ReportsEveryStepAndTheEnd) {
  std::vector<PullProgress> reports;
  PullOptions options;
  options.on_progress = [&reports](const PullProgress& progress) { reports.push_back(progress); };

  uint64_t total = 3 * kProgressStep + 10;
  BlobProgress progress(options, "sha256:ab", "layer", total);
  for (int step = 0; step < 3; ++step) {
    progress.Add(kProgressStep / 2);
    progress.Add(kProgressStep / 2);
  }
  progress.Add(4);  // no report: neither a step nor the total
  progress.Add(6);
  progress.Done(/*reused=*/false);

  ASSERT_EQ(reports.size(), 5u);  // three steps, the last bytes, done
  for (size_t i = 0; i + 2 < reports.size(); ++i) {
    EXPECT_FALSE(reports[i].done);
    EXPECT_LT(reports[i].downloaded, reports[i + 1].downloaded);
  }
  EXPECT_EQ(reports[3].downloaded, total);
  EXPECT_EQ(reports[4].downloaded, total);
  EXPECT_TRUE(reports.back().done);
  EXPECT_FALSE(reports.back().reused);
  EXPECT_EQ(reports.back().digest, "sha256:ab");
  EXPECT_EQ(reports.back().kind, "layer");
  EXPECT_EQ(reports.back().total, total);
}

TEST(BlobProgress, ReusedBlobReportsOnce) {
  std::vector<PullProgress> reports;
  PullOptions options;
  options.on_progress = [&reports](const PullProgress& progress) { reports.push_back(progress); };
  BlobProgress(options, "sha256:cd", "layer", 100).Done(/*reused=*/true);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].done);
  EXPECT_TRUE(reports[0].reused);
  EXPECT_EQ(reports[0].downloaded, 0u);
}

TEST(BlobProgress, WorksWithoutCallback) {
  PullOptions silent;
  BlobProgress quiet(silent, "sha256:ef", "config", 10);
  quiet.Add(10);
  quiet.Done(false);
}

}  // namespace
}  // namespace berth::image
