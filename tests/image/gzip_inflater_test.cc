#include "image/gzip_inflater.h"

#include <zlib.h>

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"

namespace berth::image {
namespace {

// One gzip member of `data`, made with zlib.
std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Sample(size_t bytes) {
  std::mt19937 random(7);
  std::string data;
  while (data.size() < bytes) data += "line " + std::to_string(random() % 1000) + "\n";
  return data;
}

// Feeds `compressed` in chunks of `step` bytes and returns what came out.
absl::StatusOr<std::string> Inflate(const std::string& compressed, size_t step) {
  std::string out;
  GzipInflater inflater("blob", [&out](std::string_view bytes) {
    out.append(bytes);
    return absl::OkStatus();
  });
  for (size_t at = 0; at < compressed.size(); at += step) {
    absl::Status status = inflater.Update(std::string_view(compressed).substr(at, step));
    if (!status.ok()) return status;
  }
  absl::Status finished = inflater.Finish();
  if (!finished.ok()) return finished;
  return out;
}

class GzipInflaterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!GzipInflater::Available()) GTEST_SKIP() << "built without ISA-L";
  }
};

TEST_F(GzipInflaterTest, InflatesInAnyChunking) {
  std::string data = Sample(3 << 20);
  std::string compressed = Gzip(data);
  for (size_t step : {size_t{1} << 20, size_t{16384}, size_t{7}}) {
    auto out = Inflate(compressed, step);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, data) << "step " << step;
  }
}

TEST_F(GzipInflaterTest, JoinsMembersAndIgnoresTrailingBytes) {
  std::string first = Sample(100000);
  std::string second = "second member\n";
  auto out = Inflate(Gzip(first) + Gzip(second) + std::string(512, '\0'), 4096);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, first + second);
}

TEST_F(GzipInflaterTest, RejectsTruncatedStream) {
  std::string compressed = Gzip(Sample(200000));
  auto out = Inflate(compressed.substr(0, compressed.size() / 2), 4096);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(out.status().message()).find("blob"), std::string::npos);
}

TEST_F(GzipInflaterTest, RejectsCorruptData) {
  std::string compressed = Gzip(Sample(200000));
  for (size_t i = 100; i < 400; ++i) compressed[i] = static_cast<char>(compressed[i] ^ 0x55);
  auto out = Inflate(compressed, 4096);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(GzipInflaterTest, PassesSinkErrorsOn) {
  GzipInflater inflater("blob", [](std::string_view) { return absl::UnavailableError("full"); });
  absl::Status status = inflater.Update(Gzip("data"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace berth::image
