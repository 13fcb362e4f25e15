// Checks the e2e support itself: the test registry starts, accepts a pushed busybox image, and
// serves back exactly the bytes that were pushed.
#include <curl/curl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "e2e/support/registry.h"
#include "e2e/support/test_image.h"

namespace berth::e2e {
namespace {

size_t Append(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string Get(const std::string& url, const std::string& accept, long* status) {
  std::string body;
  CURL* curl = curl_easy_init();
  struct curl_slist* headers =
      curl_slist_append(nullptr, absl::StrCat("Accept: ", accept).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  *status = curl_easy_perform(curl) == CURLE_OK ? 0 : -1;
  if (*status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return body;
}

TEST(TestImage, BusyboxLayerIsReproducible) {
  auto first = BusyboxLayer();
  auto second = BusyboxLayer();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->blob.digest, second->blob.digest);
  EXPECT_EQ(first->diff_id, second->diff_id);
  EXPECT_NE(first->blob.digest, first->diff_id);
}

TEST(TestRegistry, ServesPushedImage) {
  auto image = BusyboxImage();
  ASSERT_TRUE(image.ok()) << image.status();
  auto registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  ASSERT_TRUE((*registry)->PushImage("test/busybox", "latest", *image).ok());

  std::string base = absl::StrCat("http://", (*registry)->host(), "/v2/test/busybox");
  long status = 0;
  std::string manifest =
      Get(base + "/manifests/latest", image->manifest.media_type, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(manifest, image->manifest.data);

  std::string layer = Get(base + "/blobs/" + image->layers[0].blob.digest, "*/*", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(layer, image->layers[0].blob.data);

  struct stat st;
  EXPECT_EQ(::stat((*registry)->BlobDataPath(image->layers[0].blob.digest).c_str(), &st), 0);

  EXPECT_TRUE((*registry)->Stop().ok());
  Get(base + "/manifests/latest", "*/*", &status);
  EXPECT_EQ(status, -1);
}

TEST(TestRegistry, PushesIndex) {
  auto amd64 = BusyboxImage();
  ASSERT_TRUE(amd64.ok()) << amd64.status();
  TestImageConfig arm_config;
  arm_config.architecture = "arm64";
  auto arm64 = BusyboxImage(arm_config);
  ASSERT_TRUE(arm64.ok()) << arm64.status();
  IndexEntry amd64_entry;
  amd64_entry.manifest = amd64->manifest;
  IndexEntry arm64_entry;
  arm64_entry.manifest = arm64->manifest;
  arm64_entry.architecture = "arm64";
  TestBlob index = BuildIndex({amd64_entry, arm64_entry});

  auto registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  for (const auto* image : {&*amd64, &*arm64}) {
    ASSERT_TRUE((*registry)->PushImage("multi", image->manifest.digest, *image).ok());
  }
  absl::Status pushed = (*registry)->PushManifest("multi", "latest", index);
  ASSERT_TRUE(pushed.ok()) << pushed;
}

}  // namespace
}  // namespace berth::e2e
