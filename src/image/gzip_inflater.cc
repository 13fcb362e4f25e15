#include "image/gzip_inflater.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

#if defined(BERTH_HAVE_ISAL)
#include <isa-l/igzip_lib.h>
#endif

namespace berth::image {

#if defined(BERTH_HAVE_ISAL)

namespace {
constexpr size_t kOutputBytes = 256 << 10;
}  // namespace

struct GzipInflater::State {
  std::string what;
  Sink sink;
  inflate_state inflate;
  std::vector<uint8_t> output = std::vector<uint8_t>(kOutputBytes);
  bool in_member = false;   // a member started and has not finished
  bool trailing = false;    // the last member ended and the bytes after it are ignored
};

bool GzipInflater::Available() { return true; }

GzipInflater::GzipInflater(std::string what, Sink sink) : state_(std::make_unique<State>()) {
  state_->what = std::move(what);
  state_->sink = std::move(sink);
  isal_inflate_init(&state_->inflate);
  state_->inflate.crc_flag = ISAL_GZIP;
}

GzipInflater::~GzipInflater() = default;

absl::Status GzipInflater::Update(std::string_view chunk) {
  State& s = *state_;
  inflate_state& z = s.inflate;
  // isal_inflate takes a non-const pointer but does not write through it.
  z.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(chunk.data()));
  z.avail_in = static_cast<uint32_t>(chunk.size());
  while (!s.trailing) {
    if (!s.in_member) {
      if (z.avail_in == 0) return absl::OkStatus();
      // Another member starts only with the gzip magic; anything else ends the stream.
      if (z.next_in[0] != 0x1f) {
        s.trailing = true;
        break;
      }
      s.in_member = true;
    }
    z.next_out = s.output.data();
    z.avail_out = static_cast<uint32_t>(s.output.size());
    int result = isal_inflate(&z);
    if (result != ISAL_DECOMP_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat(s.what, ": corrupt gzip data (igzip error ", result, ")"));
    }
    size_t produced = s.output.size() - z.avail_out;
    if (produced > 0) {
      absl::Status sunk =
          s.sink(std::string_view(reinterpret_cast<const char*>(s.output.data()), produced));
      if (!sunk.ok()) return sunk;
    }
    if (z.block_state == ISAL_BLOCK_FINISH) {
      s.in_member = false;
      uint8_t* rest = z.next_in;
      uint32_t rest_size = z.avail_in;
      isal_inflate_reset(&z);
      z.crc_flag = ISAL_GZIP;
      z.next_in = rest;
      z.avail_in = rest_size;
      continue;
    }
    if (z.avail_in == 0 && z.avail_out > 0) return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status GzipInflater::Finish() {
  if (state_->in_member) {
    return absl::InvalidArgumentError(
        absl::StrCat(state_->what, ": gzip data ends inside a member (truncated)"));
  }
  return absl::OkStatus();
}

#else  // !BERTH_HAVE_ISAL

struct GzipInflater::State {};

bool GzipInflater::Available() { return false; }

GzipInflater::GzipInflater(std::string, Sink) {}

GzipInflater::~GzipInflater() = default;

absl::Status GzipInflater::Update(std::string_view) {
  return absl::UnimplementedError("Berth was built without ISA-L");
}

absl::Status GzipInflater::Finish() { return absl::UnimplementedError("Berth was built without ISA-L"); }

#endif

}  // namespace berth::image
