#include "cmd/berthctl/pull_progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace berth::ctl {
namespace {

constexpr int64_t kMilli = 1000000;

const std::string kLayer = "sha256:" + std::string(64, 'a');
const std::string kConfig = "sha256:" + std::string(64, 'c');

admin::v1::PullProgress Message(const std::string& digest, const std::string& kind,
                                uint64_t downloaded, uint64_t total, bool done,
                                bool reused = false) {
  admin::v1::PullProgress message;
  admin::v1::BlobProgress* blob = message.add_blobs();
  blob->set_digest(digest);
  blob->set_kind(kind);
  blob->set_downloaded(downloaded);
  blob->set_total(total);
  blob->set_done(done);
  blob->set_reused(reused);
  return message;
}

TEST(FormatBytesTest, KeepsThreeSignificantDigits) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(12900000), "12.3 MiB");
  EXPECT_EQ(FormatBytes(uint64_t{512} << 20), "512 MiB");
  EXPECT_EQ(FormatBytes(uint64_t{1} << 30), "1.00 GiB");
}

TEST(ShortDigestTest, KeepsTwelveHexDigits) {
  EXPECT_EQ(ShortDigest(kLayer), "sha256:aaaaaaaaaaaa");
  EXPECT_EQ(ShortDigest("short"), "short");
}

TEST(PullDisplayTest, PlainOutputPrintsFinishedBlobsAndTotals) {
  std::ostringstream out;
  int64_t now = 0;
  PullDisplay display(out, /*terminal=*/false, [&now] { return now; });

  display.Update(Message(kConfig, "config", 0, 0, true, /*reused=*/true));
  now = 200 * kMilli;
  display.Update(Message(kLayer, "layer", 1 << 20, 4 << 20, false));
  EXPECT_EQ(out.str(), "config   sha256:cccccccccccc  present\n");

  // A second later a total line appears: 1 of 2 blobs, 1 MiB of the 4 MiB fetched.
  now = 1000 * kMilli;
  display.Update(Message(kLayer, "layer", 2 << 20, 4 << 20, false));
  EXPECT_NE(out.str().find("total    1/2 blobs  2.00 MiB / 4.00 MiB  2.00 MiB/s  1.0s\n"),
            std::string::npos)
      << out.str();

  now = 2000 * kMilli;
  display.Update(Message(kLayer, "layer", 4 << 20, 4 << 20, true));
  display.Finish();
  std::string text = out.str();
  EXPECT_NE(text.find("layer    sha256:aaaaaaaaaaaa  done 4.00 MiB\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("total    2/2 blobs  4.00 MiB / 4.00 MiB  2.00 MiB/s  2.0s\n"))
      << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "no terminal codes in plain output";
}

TEST(PullDisplayTest, TerminalRedrawsTheBlockInPlace) {
  std::ostringstream out;
  int64_t now = 0;
  PullDisplay display(out, /*terminal=*/true, [&now] { return now; });
  now = 150 * kMilli;
  display.Update(Message(kLayer, "layer", 1 << 20, 4 << 20, false));
  std::string first = out.str();
  EXPECT_NE(first.find("[======                  ] 1.00 MiB / 4.00 MiB"), std::string::npos)
      << first;
  EXPECT_EQ(first.find("\x1b[2A"), std::string::npos) << "nothing to move over yet";

  // Within 100 ms nothing is drawn; after that the two lines are drawn over.
  now = 200 * kMilli;
  display.Update(Message(kLayer, "layer", 2 << 20, 4 << 20, false));
  EXPECT_EQ(out.str(), first);
  now = 300 * kMilli;
  display.Update(Message(kLayer, "layer", 3 << 20, 4 << 20, false));
  EXPECT_NE(out.str().find("\x1b[2A", first.size()), std::string::npos);
  display.Finish();
  EXPECT_NE(out.str().rfind("total    0/1 blobs  3.00 MiB / 4.00 MiB"), std::string::npos);
}

}  // namespace
}  // namespace berth::ctl
