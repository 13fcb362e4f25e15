// Streaming gzip decompression with ISA-L's igzip, which inflates two to three times faster
// than zlib on x86-64. Layers stream through it before the unpacker, so the download thread
// decompresses while the unpack thread writes files. Berth builds without it when ISA-L is
// missing; layers are then decompressed by libarchive (zlib) inside the unpacker.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace berth::image {

class GzipInflater {
 public:
  using Sink = std::function<absl::Status(std::string_view)>;

  // True when Berth was built with ISA-L.
  static bool Available();

  // `what` names the stream in errors; `sink` receives the decompressed bytes in order.
  GzipInflater(std::string what, Sink sink);
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Decompresses the next chunk of the gzip stream. Several members in a row are one stream;
  // bytes after the last member that do not start another one are ignored, as gzip does.
  // Corrupt data is InvalidArgument naming `what`; an error of the sink is returned as is.
  absl::Status Update(std::string_view chunk);

  // Fails with InvalidArgument when the stream ended inside a member.
  absl::Status Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace berth::image
