// User namespace fields of the OCI spec: uidMappings and gidMappings in JSON, MapToHost,
// CheckIdMappings, and the user namespace checks of ValidateSpec.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/spec.h"

namespace berth::runtime {
namespace {

bool Contains(const absl::Status& status, const std::string& text) {
  return status.message().find(text) != absl::string_view::npos;
}

// A spec ValidateSpec accepts, joining a pinned user namespace with a 65536-id range.
Spec UsernsSpec() {
  Spec spec = BaseSpec();
  spec.process.args = {"/pause"};
  spec.root.path = "/r";
  spec.linux.namespaces.push_back({"user", "/state/userns/pod1"});
  spec.linux.uid_mappings = {{0, 100000, 65536}};
  spec.linux.gid_mappings = {{0, 200000, 65536}};
  return spec;
}

TEST(SpecUsernsTest, MappingsRoundTripOciNames) {
  Spec spec = UsernsSpec();
  spec.linux.uid_mappings = {{0, 100000, 1000}, {1000, 300000, 64536}};
  nlohmann::json json = SpecToJson(spec);

  const nlohmann::json& uids = json["linux"]["uidMappings"];
  ASSERT_EQ(uids.size(), 2u) << json["linux"].dump();
  EXPECT_EQ(uids[0], nlohmann::json({{"containerID", 0}, {"hostID", 100000}, {"size", 1000}}));
  EXPECT_EQ(uids[1],
            nlohmann::json({{"containerID", 1000}, {"hostID", 300000}, {"size", 64536}}));
  EXPECT_EQ(json["linux"]["gidMappings"],
            nlohmann::json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}}));

  absl::StatusOr<Spec> parsed = SpecFromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->linux.uid_mappings.size(), 2u);
  EXPECT_EQ(parsed->linux.uid_mappings[1].container_id, 1000u);
  EXPECT_EQ(parsed->linux.uid_mappings[1].host_id, 300000u);
  EXPECT_EQ(parsed->linux.uid_mappings[1].size, 64536u);
  ASSERT_EQ(parsed->linux.gid_mappings.size(), 1u);
  EXPECT_EQ(parsed->linux.gid_mappings[0].host_id, 200000u);
  EXPECT_EQ(SpecToJson(*parsed), json);
}

TEST(SpecUsernsTest, NoMappingsNoMembers) {
  Spec spec = BaseSpec();
  nlohmann::json json = SpecToJson(spec);
  EXPECT_FALSE(json["linux"].contains("uidMappings"));
  EXPECT_FALSE(json["linux"].contains("gidMappings"));

  absl::StatusOr<Spec> parsed = SpecFromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->linux.uid_mappings.empty());
  EXPECT_TRUE(parsed->linux.gid_mappings.empty());
}

TEST(SpecUsernsTest, BadMemberNamedByPath) {
  auto host = SpecFromJson(nlohmann::json::parse(R"({"linux": {"uidMappings": [
      {"containerID": 0, "hostID": 100000, "size": 10},
      {"containerID": 10, "hostID": "lots", "size": 10}]}})"));
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(host.status(), "linux.uidMappings[1].hostID")) << host.status();

  auto size = SpecFromJson(
      nlohmann::json::parse(R"({"linux": {"gidMappings": [{"containerID": 0, "size": [1]}]}})"));
  ASSERT_FALSE(size.ok());
  EXPECT_TRUE(Contains(size.status(), "linux.gidMappings[0].size")) << size.status();

  auto not_array = SpecFromJson(nlohmann::json::parse(R"({"linux": {"uidMappings": {}}})"));
  ASSERT_FALSE(not_array.ok());
  EXPECT_TRUE(Contains(not_array.status(), "linux.uidMappings")) << not_array.status();
  EXPECT_TRUE(Contains(not_array.status(), "must be an array")) << not_array.status();

  auto not_object = SpecFromJson(nlohmann::json::parse(R"({"linux": {"uidMappings": [7]}})"));
  ASSERT_FALSE(not_object.ok());
  EXPECT_TRUE(Contains(not_object.status(), "linux.uidMappings[0]")) << not_object.status();
  EXPECT_TRUE(Contains(not_object.status(), "must be an object")) << not_object.status();
}

TEST(SpecUsernsTest, MapToHostFindsRange) {
  std::vector<IdMapping> mappings = {{0, 100000, 1000}, {1000, 500000, 10}};
  EXPECT_EQ(MapToHost(mappings, 0), 100000u);
  EXPECT_EQ(MapToHost(mappings, 999), 100999u);
  EXPECT_EQ(MapToHost(mappings, 1000), 500000u);
  EXPECT_EQ(MapToHost(mappings, 1009), 500009u);
  EXPECT_EQ(MapToHost(mappings, 1010), std::nullopt);
  EXPECT_EQ(MapToHost(mappings, 4294967295u), std::nullopt);
  EXPECT_EQ(MapToHost({}, 0), std::nullopt);

  // A range that ends exactly at 2^32 still maps its last id.
  EXPECT_EQ(MapToHost({{4294967294u, 7, 2}}, 4294967295u), 8u);
  EXPECT_EQ(MapToHost({{5, 7, 2}}, 4), std::nullopt);
}

TEST(SpecUsernsTest, CheckAcceptsMultiRangeList) {
  std::vector<IdMapping> mappings = {
      {0, 100000, 1}, {1, 100001, 999}, {1000, 300000, 64536}, {65536, 1000000, 1}};
  EXPECT_TRUE(CheckIdMappings(mappings, "uids").ok()) << CheckIdMappings(mappings, "uids");
  // Container id 0 may sit in any entry, and ranges may end at 2^32 exactly.
  EXPECT_TRUE(CheckIdMappings({{10, 5000, 5}, {0, 4294967295u, 1}}, "uids").ok());
  std::vector<IdMapping> max_lines;
  for (uint32_t i = 0; i < 340; ++i) max_lines.push_back({i, 100000 + i, 1});
  EXPECT_TRUE(CheckIdMappings(max_lines, "uids").ok());
}

TEST(SpecUsernsTest, CheckRejectsEmptyAndTooMany) {
  absl::Status empty = CheckIdMappings({}, "linux.uidMappings");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "linux.uidMappings is empty");

  std::vector<IdMapping> many;
  for (uint32_t i = 0; i < 341; ++i) many.push_back({i, 100000 + i, 1});
  absl::Status too_many = CheckIdMappings(many, "linux.gidMappings");
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(too_many.message(), "linux.gidMappings has 341 entries, more than 340");
}

TEST(SpecUsernsTest, CheckRejectsEmptyRange) {
  absl::Status status = CheckIdMappings({{0, 100000, 10}, {10, 200000, 0}}, "uids");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "uids[1]: the length is 0");
}

TEST(SpecUsernsTest, CheckRejectsWrapPast2To32) {
  absl::Status container = CheckIdMappings({{0, 100000, 10}, {4294967290u, 200000, 7}}, "uids");
  EXPECT_EQ(container.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(container.message(), "uids[1]: 7 ids from 4294967290 (host 200000) run past 2^32");

  absl::Status host = CheckIdMappings({{0, 4294967295u, 2}}, "gids");
  EXPECT_EQ(host.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(host.message(), "gids[0]: 2 ids from 0 (host 4294967295) run past 2^32");
}

TEST(SpecUsernsTest, CheckRejectsOverlapEitherSide) {
  absl::Status container =
      CheckIdMappings({{0, 100000, 1000}, {2000, 300000, 10}, {999, 400000, 2}}, "uids");
  EXPECT_EQ(container.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(container.message(), "uids[2] overlaps [0]");

  absl::Status host =
      CheckIdMappings({{0, 100000, 1000}, {2000, 300000, 10}, {5000, 300009, 5}}, "gids");
  EXPECT_EQ(host.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(host.message(), "gids[2] overlaps [1]");

  // Touching ranges do not overlap.
  EXPECT_TRUE(CheckIdMappings({{0, 100000, 10}, {10, 100010, 10}}, "uids").ok());
}

TEST(SpecUsernsTest, CheckRejectsHostRoot) {
  absl::Status status = CheckIdMappings({{0, 100000, 10}, {10, 0, 1}}, "uids");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "uids[1]: maps the host's id 0");
}

TEST(SpecUsernsTest, CheckRejectsUnmappedContainerRoot) {
  absl::Status status = CheckIdMappings({{1, 100000, 65535}}, "uids");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "uids does not map container id 0");
}

TEST(SpecUsernsTest, ValidateAcceptsJoinedUserns) {
  Spec spec = UsernsSpec();
  EXPECT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec);
}

TEST(SpecUsernsTest, ValidateRejectsNewUserns) {
  Spec spec = UsernsSpec();
  spec.linux.namespaces.back().path.clear();
  absl::Status status = ValidateSpec(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(status, "a new user namespace")) << status;
}

TEST(SpecUsernsTest, ValidateRejectsMappingsWithoutUserns) {
  Spec spec = UsernsSpec();
  spec.linux.namespaces.pop_back();
  absl::Status status = ValidateSpec(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(status, "linux.uidMappings/gidMappings need a user namespace")) << status;

  spec.linux.uid_mappings.clear();
  EXPECT_EQ(ValidateSpec(spec).code(), absl::StatusCode::kInvalidArgument) << "gids alone";
  spec.linux.gid_mappings.clear();
  EXPECT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec);
}

TEST(SpecUsernsTest, ValidateChecksMappings) {
  Spec missing = UsernsSpec();
  missing.linux.gid_mappings.clear();
  absl::Status status = ValidateSpec(missing);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "OCI spec: linux.gidMappings is empty");

  Spec overlap = UsernsSpec();
  overlap.linux.uid_mappings.push_back({70000, 100005, 1});
  status = ValidateSpec(overlap);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "OCI spec: linux.uidMappings[1] overlaps [0]");
}

}  // namespace
}  // namespace berth::runtime
