#include "e2e/support/test_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/media_types.h"

namespace berth::e2e {
namespace {

namespace media = image::media;

// Every entry of every test layer carries this mtime, so layer digests are reproducible.
constexpr int64_t kFixedMtime = 1700000000;

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
using WriteArchive = std::unique_ptr<struct archive, ArchiveDeleter>;

struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveEntry = std::unique_ptr<struct archive_entry, EntryDeleter>;

la_ssize_t AppendToString(struct archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

absl::Status ArchiveError(struct archive* a, const std::string& step) {
  const char* message = archive_error_string(a);
  return absl::InternalError(absl::StrCat(step, ": ", message ? message : "libarchive error"));
}

std::string Parent(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

std::string Base(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::Status WriteEntry(struct archive* a, const LayerBuilder::Entry& entry) {
  std::string data;
  if (entry.type == 'f') {
    if (entry.host_path.empty()) {
      data = entry.content;
    } else {
      BERTH_ASSIGN_OR_RETURN(data, ReadFile(entry.host_path));
    }
  }

  ArchiveEntry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), entry.path.c_str());
  archive_entry_set_uid(e.get(), entry.uid);
  archive_entry_set_gid(e.get(), entry.gid);
  archive_entry_set_mtime(e.get(), kFixedMtime, 0);
  switch (entry.type) {
    case 'd':
      archive_entry_set_filetype(e.get(), AE_IFDIR);
      archive_entry_set_perm(e.get(), entry.mode);
      break;
    case 'l':
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_perm(e.get(), 0777);
      archive_entry_set_symlink(e.get(), entry.content.c_str());
      break;
    case 'h':
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), entry.mode);
      archive_entry_set_hardlink(e.get(), entry.content.c_str());
      archive_entry_set_size(e.get(), 0);
      break;
    default:
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), entry.mode);
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
      break;
  }
  for (const auto& [name, value] : entry.xattrs) {
    archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
  }

  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return ArchiveError(a, absl::StrCat("tar header of ", entry.path));
  }
  if (!data.empty() &&
      archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return ArchiveError(a, absl::StrCat("tar data of ", entry.path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> WriteTar(const std::vector<LayerBuilder::Entry>& entries) {
  std::string out;
  WriteArchive a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "open tar writer");
  }
  for (const auto& entry : entries) BERTH_RETURN_IF_ERROR(WriteEntry(a.get(), entry));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "close tar");
  return out;
}

// Compresses `data` as one gzip stream with no file name and no time stamp in its header.
absl::StatusOr<std::string> Gzip(const std::string& data) {
  std::string out;
  WriteArchive a(archive_write_new());
  archive_write_set_format_raw(a.get());
  archive_write_add_filter_gzip(a.get());
  if (archive_write_set_options(a.get(), "gzip:!timestamp") != ARCHIVE_OK) {
    return ArchiveError(a.get(), "gzip options");
  }
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "open gzip writer");
  }
  ArchiveEntry e(archive_entry_new());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "gzip header");
  }
  if (archive_write_data(a.get(), data.data(), data.size()) !=
      static_cast<la_ssize_t>(data.size())) {
    return ArchiveError(a.get(), "gzip data");
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "close gzip");
  return out;
}

TestBlob MakeBlob(std::string_view media_type, std::string data) {
  TestBlob blob;
  blob.media_type = std::string(media_type);
  blob.digest = image::Sha256Digest(data);
  blob.data = std::move(data);
  return blob;
}

nlohmann::json Descriptor(const TestBlob& blob) {
  return {{"mediaType", blob.media_type},
          {"digest", blob.digest},
          {"size", blob.data.size()}};
}

nlohmann::json EmptyObjectSet(const std::vector<std::string>& keys) {
  nlohmann::json set = nlohmann::json::object();
  for (const auto& key : keys) set[key] = nlohmann::json::object();
  return set;
}

nlohmann::json ConfigJson(const std::vector<TestLayer>& layers, const TestImageConfig& config) {
  nlohmann::json inner = {{"Env", config.env}, {"Cmd", config.cmd}};
  if (!config.entrypoint.empty()) inner["Entrypoint"] = config.entrypoint;
  if (!config.working_dir.empty()) inner["WorkingDir"] = config.working_dir;
  if (!config.user.empty()) inner["User"] = config.user;
  if (!config.stop_signal.empty()) inner["StopSignal"] = config.stop_signal;
  if (!config.labels.empty()) inner["Labels"] = config.labels;
  if (!config.exposed_ports.empty()) inner["ExposedPorts"] = EmptyObjectSet(config.exposed_ports);
  if (!config.volumes.empty()) inner["Volumes"] = EmptyObjectSet(config.volumes);

  nlohmann::json diff_ids = nlohmann::json::array();
  for (const auto& layer : layers) diff_ids.push_back(layer.diff_id);
  nlohmann::json result = {{"created", "2023-11-14T22:13:20Z"},
                           {"architecture", config.architecture},
                           {"os", config.os},
                           {"config", inner},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!config.variant.empty()) result["variant"] = config.variant;
  return result;
}

absl::StatusOr<std::vector<std::string>> BusyboxApplets() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(
      ::popen(absl::StrCat(kHostBusybox, " --list").c_str(), "r"), ::pclose);
  if (!pipe) return ErrnoError(errno, "popen", absl::StrCat(kHostBusybox, " --list"));
  std::vector<std::string> applets;
  char line[256];
  while (std::fgets(line, sizeof(line), pipe.get()) != nullptr) {
    std::string name(line);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
    if (!name.empty() && name != "busybox" && name.find('/') == std::string::npos) {
      applets.push_back(name);
    }
  }
  if (applets.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(kHostBusybox, " --list printed no applets; is busybox-static installed?"));
  }
  return applets;
}

LayerBuilder::Entry MakeEntry(char type, const std::string& path, const std::string& content,
                              uint32_t mode, int64_t uid = 0, int64_t gid = 0) {
  LayerBuilder::Entry entry;
  entry.type = type;
  entry.path = path;
  entry.content = content;
  entry.mode = mode;
  entry.uid = uid;
  entry.gid = gid;
  return entry;
}

}  // namespace

LayerBuilder& LayerBuilder::Dir(const std::string& path, uint32_t mode, int64_t uid,
                                int64_t gid) {
  entries_.push_back(MakeEntry('d', path, "", mode, uid, gid));
  return *this;
}

LayerBuilder& LayerBuilder::File(const std::string& path, const std::string& content,
                                 uint32_t mode, int64_t uid, int64_t gid) {
  entries_.push_back(MakeEntry('f', path, content, mode, uid, gid));
  return *this;
}

LayerBuilder& LayerBuilder::HostFile(const std::string& path, const std::string& host_path,
                                     uint32_t mode) {
  entries_.push_back(MakeEntry('f', path, "", mode));
  entries_.back().host_path = host_path;
  return *this;
}

LayerBuilder& LayerBuilder::Symlink(const std::string& path, const std::string& target) {
  entries_.push_back(MakeEntry('l', path, target, 0777));
  return *this;
}

LayerBuilder& LayerBuilder::Hardlink(const std::string& path, const std::string& target) {
  entries_.push_back(MakeEntry('h', path, target, 0644));
  return *this;
}

LayerBuilder& LayerBuilder::Whiteout(const std::string& path) {
  return File(absl::StrCat(Parent(path), ".wh.", Base(path)), "", 0644);
}

LayerBuilder& LayerBuilder::Opaque(const std::string& dir) {
  std::string prefix = dir.empty() || dir.back() == '/' ? dir : absl::StrCat(dir, "/");
  return File(absl::StrCat(prefix, ".wh..wh..opq"), "", 0644);
}

LayerBuilder& LayerBuilder::Xattr(const std::string& name, const std::string& value) {
  if (!entries_.empty()) entries_.back().xattrs[name] = value;
  return *this;
}

LayerBuilder& LayerBuilder::Raw(char type, const std::string& path,
                                const std::string& content_or_target) {
  uint32_t mode = type == 'd' ? 0755 : 0644;
  entries_.push_back(MakeEntry(type, path, content_or_target, mode));
  return *this;
}

absl::StatusOr<TestLayer> LayerBuilder::Build(bool gzip) const {
  BERTH_ASSIGN_OR_RETURN(std::string tar, WriteTar(entries_));
  TestLayer layer;
  layer.diff_id = image::Sha256Digest(tar);
  if (!gzip) {
    layer.blob = MakeBlob(media::kOciLayer, std::move(tar));
    return layer;
  }
  BERTH_ASSIGN_OR_RETURN(std::string compressed, Gzip(tar));
  layer.blob = MakeBlob(media::kOciLayerGzip, std::move(compressed));
  return layer;
}

absl::StatusOr<TestImage> BuildImage(std::vector<TestLayer> layers,
                                     const TestImageConfig& config) {
  TestImage image;
  image.config = MakeBlob(media::kOciConfig, ConfigJson(layers, config).dump());

  nlohmann::json layer_descriptors = nlohmann::json::array();
  for (const auto& layer : layers) layer_descriptors.push_back(Descriptor(layer.blob));
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", media::kOciManifest},
                             {"config", Descriptor(image.config)},
                             {"layers", layer_descriptors}};
  image.manifest = MakeBlob(media::kOciManifest, manifest.dump());
  image.layers = std::move(layers);
  return image;
}

absl::StatusOr<TestLayer> BusyboxLayer() {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> applets, BusyboxApplets());
  LayerBuilder layer;
  layer.Dir("bin").HostFile("bin/busybox", kHostBusybox, 0755);
  for (const auto& applet : applets) layer.Symlink(absl::StrCat("bin/", applet), "busybox");
  layer.Dir("etc")
      .File("etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
      .File("etc/group", "root:x:0:\nnogroup:x:65534:\n")
      .Dir("tmp", 01777)
      .Dir("root", 0700)
      .Dir("dev")
      .Dir("proc")
      .Dir("sys")
      .Dir("var");
  return layer.Build(/*gzip=*/true);
}

absl::StatusOr<TestImage> BusyboxImage(const TestImageConfig& config) {
  BERTH_ASSIGN_OR_RETURN(TestLayer layer, BusyboxLayer());
  return BuildImage({std::move(layer)}, config);
}

TestBlob BuildIndex(const std::vector<IndexEntry>& entries) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& entry : entries) {
    nlohmann::json descriptor = Descriptor(entry.manifest);
    descriptor["platform"] = {{"os", entry.os}, {"architecture", entry.architecture}};
    if (!entry.variant.empty()) descriptor["platform"]["variant"] = entry.variant;
    manifests.push_back(descriptor);
  }
  nlohmann::json index = {
      {"schemaVersion", 2}, {"mediaType", media::kOciIndex}, {"manifests", manifests}};
  return MakeBlob(media::kOciIndex, index.dump());
}

}  // namespace berth::e2e
