// Table output of berthctl, laid out like crictl's: every column but the last padded to the
// width of its widest cell plus three spaces, and to at least 20 characters.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/v1/api.pb.h"

namespace berth::ctl {

// Ids in tables are cut to this many characters unless --no-trunc is given.
inline constexpr size_t kShortIdLength = 13;

// Lays out rows (the first is the header) into aligned text, one line per row.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows);

// Size in decimal units with three significant digits, e.g. 1.46MB, 72.8kB, 512B.
std::string HumanSize(uint64_t bytes);

// Approximate length of a time span, e.g. "Less than a second", "5 seconds", "About a minute",
// "3 hours", "2 weeks". Negative spans count as zero.
std::string HumanDuration(int64_t nanos);

// "<HumanDuration> ago" for a creation time, both in nanoseconds since the epoch.
std::string CreatedAgo(int64_t created_nanos, int64_t now_nanos);

// An id as tables show it: without a "sha256:" prefix and cut to kShortIdLength characters,
// or unchanged when `no_trunc` is set.
std::string ShortId(std::string_view id, bool no_trunc);

// State names as crictl shows them: Ready and NotReady for pods, Created, Running, Exited and
// Unknown for containers.
std::string PodStateName(runtime::v1::PodSandboxState state);
std::string ContainerStateName(runtime::v1::ContainerState state);

// Splits "registry/repo:tag" at the tag's colon (a colon before the last '/' belongs to a host
// port). A reference without a tag gives the tag "<none>".
std::pair<std::string, std::string> SplitRepoTag(std::string_view reference);

struct TableOptions {
  // Show ids in full.
  bool no_trunc = false;
  // The present time, for the CREATED column, in nanoseconds since the epoch.
  int64_t now_nanos = 0;
};

// `berthctl pods`: POD ID, CREATED, STATE, NAME, NAMESPACE, ATTEMPT, RUNTIME.
std::string PodsTable(const std::vector<runtime::v1::PodSandbox>& pods,
                      const TableOptions& options);

// `berthctl ps`: CONTAINER, IMAGE, CREATED, STATE, NAME, ATTEMPT, POD ID, POD. `pod_names` maps
// sandbox ids to pod names, and a missing id leaves the POD column empty.
std::string ContainersTable(const std::vector<runtime::v1::Container>& containers,
                            const std::map<std::string, std::string>& pod_names,
                            const TableOptions& options);

// `berthctl images`: IMAGE, TAG, IMAGE ID, SIZE, with a DIGEST column after TAG when `digests`
// is set. An image has one row per tag, or one row with tag <none> when it has none.
std::string ImagesTable(const std::vector<runtime::v1::Image>& images, bool digests,
                        const TableOptions& options);

}  // namespace berth::ctl
