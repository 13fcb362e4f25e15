#include "image/image_record.h"

#include <gtest/gtest.h>

#include "image/image_config.h"

namespace berth::image {
namespace {

ImageRecord SampleRecord() {
  ImageRecord record;
  record.id = "sha256:" + std::string(64, 'c');
  record.repo_tags = {"127.0.0.1:5000/busybox:latest"};
  record.repo_digests = {"127.0.0.1:5000/busybox@sha256:" + std::string(64, 'd')};
  record.size = 1234;
  record.config.entrypoint = {"/bin/sh", "-c"};
  record.config.cmd = {"sleep", "10"};
  record.config.env = {"PATH=/bin", "A=b=c"};
  record.config.working_dir = "/work";
  record.config.user = "1000:1000";
  record.config.stop_signal = "SIGINT";
  record.config.labels = {{"a", "1"}, {"b", ""}};
  record.config.exposed_ports = {"53/udp", "80/tcp"};
  record.config.volumes = {"/data"};
  record.manifest_digest = "sha256:" + std::string(64, 'd');
  record.index_digest = "";
  record.layer_digests = {"sha256:" + std::string(64, 'e')};
  record.diff_ids = {"sha256:" + std::string(64, 'f')};
  record.chain_ids = record.diff_ids;
  record.snapshot_dirs = {"/var/lib/berth/snapshots/1/fs"};
  record.pulled_at = 1700000000123456789;
  return record;
}

TEST(ImageRecord, JsonRoundTrip) {
  ImageRecord record = SampleRecord();
  auto back = ImageRecordFromJson(nlohmann::json::parse(ImageRecordToJson(record).dump()), "r");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, record.id);
  EXPECT_EQ(back->repo_tags, record.repo_tags);
  EXPECT_EQ(back->repo_digests, record.repo_digests);
  EXPECT_EQ(back->size, record.size);
  EXPECT_EQ(back->config, record.config);
  EXPECT_EQ(back->manifest_digest, record.manifest_digest);
  EXPECT_EQ(back->index_digest, record.index_digest);
  EXPECT_EQ(back->layer_digests, record.layer_digests);
  EXPECT_EQ(back->diff_ids, record.diff_ids);
  EXPECT_EQ(back->chain_ids, record.chain_ids);
  EXPECT_EQ(back->LayerDirs(), record.snapshot_dirs);
  EXPECT_EQ(back->pulled_at, record.pulled_at);
}

TEST(ImageRecord, RejectsMissingAndMismatchedFields) {
  nlohmann::json json = ImageRecordToJson(SampleRecord());
  json.erase("chain_ids");
  EXPECT_EQ(ImageRecordFromJson(json, "r").status().code(), absl::StatusCode::kInvalidArgument);

  json = ImageRecordToJson(SampleRecord());
  json["snapshot_dirs"].push_back("/extra");
  EXPECT_EQ(ImageRecordFromJson(json, "r").status().code(), absl::StatusCode::kInvalidArgument);

  json = ImageRecordToJson(SampleRecord());
  json["id"] = "nope";
  EXPECT_EQ(ImageRecordFromJson(json, "r").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ImageRecord, BlobDigestsListsEveryBlob) {
  ImageRecord record = SampleRecord();
  record.index_digest = "sha256:" + std::string(64, '1');
  std::vector<std::string> expected = {record.index_digest, record.manifest_digest, record.id,
                                       record.layer_digests[0]};
  EXPECT_EQ(record.BlobDigests(), expected);
}

TEST(ParseImageConfig, ReadsDockerConfig) {
  std::string json = R"({"architecture":"amd64","os":"linux",
    "config":{"Entrypoint":null,"Cmd":["sh"],"Env":["PATH=/bin"],"WorkingDir":"/w","User":"nobody",
      "StopSignal":"SIGQUIT","Labels":{"k":"v"},"ExposedPorts":{"80/tcp":{},"53/udp":{}},
      "Volumes":{"/v":{}}},
    "rootfs":{"type":"layers","diff_ids":["sha256:)" + std::string(64, 'a') + R"("]}})";
  auto parsed = ParseImageConfig(json, "config");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->config.entrypoint.empty());
  EXPECT_EQ(parsed->config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(parsed->config.working_dir, "/w");
  EXPECT_EQ(parsed->config.user, "nobody");
  EXPECT_EQ(parsed->config.stop_signal, "SIGQUIT");
  EXPECT_EQ(parsed->config.labels.at("k"), "v");
  EXPECT_EQ(parsed->config.exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));
  EXPECT_EQ(parsed->config.volumes, std::vector<std::string>{"/v"});
  EXPECT_EQ(parsed->diff_ids.size(), 1u);
  EXPECT_EQ(parsed->architecture, "amd64");
}

TEST(ParseImageConfig, RejectsBadTypes) {
  EXPECT_FALSE(ParseImageConfig(R"({"config":{"Cmd":"sh"},"rootfs":{"diff_ids":[]}})", "c").ok());
  EXPECT_FALSE(ParseImageConfig(R"({"config":{}})", "c").ok());
  EXPECT_FALSE(ParseImageConfig(R"({"rootfs":{"diff_ids":["sha256:x"]}})", "c").ok());
}

}  // namespace
}  // namespace berth::image
