#include "cmd/berthctl/json_output.h"

#include <gtest/gtest.h>

#include "runtime/v1/api.pb.h"

namespace berth::ctl {
namespace {

TEST(MessageToJsonTreeTest, UsesJsonNamesAndPrintsDefaults) {
  runtime::v1::PodSandboxStatus status;
  status.set_id("abc");
  status.set_created_at(1700000000000000000);
  status.mutable_metadata()->set_name("web");
  absl::StatusOr<nlohmann::ordered_json> tree = MessageToJsonTree(status);
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ((*tree)["id"], "abc");
  EXPECT_EQ((*tree)["createdAt"], "1700000000000000000");  // int64 as text, as proto3 JSON specifies
  EXPECT_EQ((*tree)["state"], "SANDBOX_READY");           // the default value is printed
  EXPECT_EQ((*tree)["metadata"]["attempt"], 0);
  EXPECT_EQ((*tree)["runtimeHandler"], "");
  EXPECT_EQ(tree->begin().key(), "id");  // proto field order is kept
}

TEST(StatusWithInfoTest, EmbedsJsonInfoValues) {
  runtime::v1::ContainerStatus status;
  status.set_id("c1");
  google::protobuf::Map<std::string, std::string> info;
  info["info"] = R"({"pid": 42, "runtimeSpec": {"ociVersion": "1.1.0"}})";
  info["note"] = "plain text";
  absl::StatusOr<nlohmann::ordered_json> tree = StatusWithInfo(status, info);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ((*tree)["status"]["id"], "c1");
  EXPECT_EQ((*tree)["info"]["info"]["pid"], 42);
  EXPECT_EQ((*tree)["info"]["note"], "plain text");

  absl::StatusOr<nlohmann::ordered_json> bare = StatusWithInfo(status, {});
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->contains("info"));
}

TEST(RenderTreeTest, PrintsJsonAndYaml) {
  nlohmann::ordered_json tree = {{"b", 1}, {"a", {{"list", {"x", "true"}}, {"empty", {}}}}};
  tree["a"]["empty"] = nlohmann::ordered_json::object();
  EXPECT_EQ(RenderTree(tree, OutputFormat::kJson),
            "{\n  \"b\": 1,\n  \"a\": {\n    \"list\": [\n      \"x\",\n      \"true\"\n    ],\n"
            "    \"empty\": {}\n  }\n}\n");
  EXPECT_EQ(RenderTree(tree, OutputFormat::kYaml),
            "b: 1\na:\n  list:\n    - x\n    - \"true\"\n  empty: {}\n");
}

TEST(ParseOutputFormatTest, AcceptsKnownFormats) {
  EXPECT_EQ(*ParseOutputFormat("json", false), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("yaml", false), OutputFormat::kYaml);
  EXPECT_EQ(*ParseOutputFormat("table", true), OutputFormat::kTable);
  EXPECT_FALSE(ParseOutputFormat("table", false).ok());
  EXPECT_EQ(ParseOutputFormat("xml", true).status().message(),
            "unknown output format \"xml\" (use table, json or yaml)");
}

}  // namespace
}  // namespace berth::ctl
