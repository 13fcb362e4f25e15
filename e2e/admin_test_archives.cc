#include "e2e/admin_test_archives.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "image/digest.h"

namespace berth::e2e {
namespace {

using nlohmann::json;

struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

absl::Status TarError(struct archive* a, const std::string& path) {
  const char* message = archive_error_string(a);
  return absl::InternalError(
      absl::StrCat("write tar ", path, ": ", message ? message : "unknown error"));
}

std::string BlobPath(const std::string& digest) {
  return absl::StrCat("blobs/sha256/", image::DigestHex(digest));
}

}  // namespace

absl::Status WriteTar(const std::string& path, const std::vector<ArchiveEntry>& entries,
                      bool gzip) {
  std::unique_ptr<struct archive, WriteDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (gzip) archive_write_add_filter_gzip(a.get());
  if (archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK) {
    return TarError(a.get(), path);
  }
  for (const ArchiveEntry& file : entries) {
    std::unique_ptr<struct archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), file.path.c_str());
    archive_entry_set_mtime(entry.get(), 1700000000, 0);
    if (!file.link_target.empty()) {
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_set_perm(entry.get(), 0777);
      archive_entry_set_symlink(entry.get(), file.link_target.c_str());
    } else {
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_perm(entry.get(), 0644);
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(file.data.size()));
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) return TarError(a.get(), path);
    if (!file.data.empty() &&
        archive_write_data(a.get(), file.data.data(), file.data.size()) !=
            static_cast<la_ssize_t>(file.data.size())) {
      return TarError(a.get(), path);
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return TarError(a.get(), path);
  return absl::OkStatus();
}

std::vector<TestBlob> ImageBlobs(const TestImage& image) {
  std::vector<TestBlob> blobs = {image.manifest, image.config};
  for (const TestLayer& layer : image.layers) blobs.push_back(layer.blob);
  return blobs;
}

std::vector<ArchiveEntry> OciLayout(const TestBlob& top, const std::vector<OciName>& names,
                                    const std::vector<TestBlob>& blobs) {
  json index = {{"schemaVersion", 2}, {"manifests", json::array()}};
  for (const OciName& name : names) {
    json entry = {{"mediaType", top.media_type},
                  {"digest", top.digest},
                  {"size", top.data.size()}};
    if (!name.containerd_name.empty()) {
      entry["annotations"]["io.containerd.image.name"] = name.containerd_name;
    }
    if (!name.ref_name.empty()) {
      entry["annotations"]["org.opencontainers.image.ref.name"] = name.ref_name;
    }
    index["manifests"].push_back(entry);
  }
  std::vector<ArchiveEntry> entries = {
      {"oci-layout", R"({"imageLayoutVersion":"1.0.0"})", ""},
      {"index.json", index.dump(), ""},
  };
  std::map<std::string, bool> written;
  for (const TestBlob& blob : blobs) {
    if (written[blob.digest]) continue;
    written[blob.digest] = true;
    entries.push_back({BlobPath(blob.digest), blob.data, ""});
  }
  return entries;
}

std::vector<ArchiveEntry> DockerSave(const TestImage& image,
                                     const std::vector<std::string>& repo_tags,
                                     DockerLayout layout) {
  std::vector<ArchiveEntry> entries;
  std::string config_path = layout == DockerLayout::kBlobs
                                ? BlobPath(image.config.digest)
                                : absl::StrCat(image::DigestHex(image.config.digest), ".json");
  entries.push_back({config_path, image.config.data, ""});

  json layers = json::array();
  std::map<std::string, std::string> path_of_blob;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const TestBlob& blob = image.layers[i].blob;
    if (layout == DockerLayout::kBlobs) {
      std::string path = BlobPath(blob.digest);
      if (!path_of_blob.contains(blob.digest)) entries.push_back({path, blob.data, ""});
      path_of_blob[blob.digest] = path;
      layers.push_back(path);
      continue;
    }
    // Legacy folders are named by a v1 id, which is not a digest of anything in the archive.
    std::string dir = absl::StrCat("layer", i, "-", image::DigestHex(blob.digest).substr(0, 8));
    std::string path = absl::StrCat(dir, "/layer.tar");
    entries.push_back({absl::StrCat(dir, "/VERSION"), "1.0", ""});
    entries.push_back({absl::StrCat(dir, "/json"), absl::StrCat(R"({"id":")", dir, R"("})"), ""});
    auto earlier = path_of_blob.find(blob.digest);
    if (earlier != path_of_blob.end()) {
      entries.push_back({path, "", absl::StrCat("../", earlier->second)});
    } else {
      entries.push_back({path, blob.data, ""});
      path_of_blob[blob.digest] = path;
    }
    layers.push_back(path);
  }

  json manifest = json::array(
      {{{"Config", config_path}, {"RepoTags", repo_tags}, {"Layers", layers}}});
  entries.push_back({"manifest.json", manifest.dump(), ""});
  return entries;
}

}  // namespace berth::e2e
