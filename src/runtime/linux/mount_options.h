// Translation of OCI mount options ("ro", "nosuid", "rbind", "mode=755", ...) into mount(2)
// flags and file-system data, and the page-size limit of overlay options.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::runtime {

struct ParsedMountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ...
  unsigned long propagation = 0;  // MS_PRIVATE, MS_SLAVE, ... with MS_REC for "r" forms
  std::string data;               // the options mount(2) does not know, comma-joined
  bool bind = false;              // "bind" or "rbind"
};

// Splits `options` into flags, propagation and data. Unknown options go to data unchanged, so the
// file system itself judges them.
ParsedMountOptions ParseMountOptions(const std::vector<std::string>& options);

// Returns the flags of a rootfsPropagation value ("" and "rprivate" give MS_REC | MS_PRIVATE).
unsigned long RootPropagationFlags(const std::string& propagation);

// Overlay data that fits in one page. When `data` is `page_size` bytes or more, every path of
// lowerdir, upperdir and workdir is made relative to their longest common parent directory,
// which the caller must chdir into before mount(2) (overlayfs resolves relative paths from the
// working directory). Still too long is ResourceExhausted with both lengths named.
struct OverlayData {
  std::string data;
  std::string chdir;  // empty when the paths stayed absolute
};
absl::StatusOr<OverlayData> FitOverlayData(const std::string& data, size_t page_size);

}  // namespace berth::runtime
