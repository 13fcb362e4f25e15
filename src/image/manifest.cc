#include "image/manifest.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/json_file.h"
#include "base/status.h"
#include "image/digest.h"
#include "image/media_types.h"
#include "image/text.h"

namespace berth::image {
namespace {

using nlohmann::json;

absl::Status Malformed(std::string_view what, std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed ", std::string(what), ": ", std::string(reason)));
}

absl::Status Unsupported(std::string_view what, std::string_view type) {
  if (media::IsSchema1(type)) {
    return absl::FailedPreconditionError(absl::StrCat(
        std::string(what), " is a Docker schema 1 manifest, which Berth does not support; "
        "push the image again with a current client to get a schema 2 or OCI manifest"));
  }
  return absl::FailedPreconditionError(absl::StrCat(std::string(what), " has media type \"",
                                                    std::string(type),
                                                    "\", which is not an image manifest or index"));
}

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

absl::StatusOr<Descriptor> ParseDescriptor(const json& value, std::string_view what) {
  if (!value.is_object()) return Malformed(what, "descriptor is not an object");
  Descriptor descriptor;
  descriptor.media_type = StringField(value, "mediaType");
  descriptor.digest = StringField(value, "digest");
  absl::Status digest_ok = ValidateDigest(descriptor.digest);
  if (!digest_ok.ok()) return Malformed(what, std::string(digest_ok.message()));
  auto size = value.find("size");
  if (size == value.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return Malformed(what, absl::StrCat("descriptor ", descriptor.digest,
                                        " has no valid \"size\""));
  }
  descriptor.size = size->get<int64_t>();
  auto platform = value.find("platform");
  if (platform != value.end() && platform->is_object()) {
    descriptor.platform = Platform{StringField(*platform, "os"),
                                   StringField(*platform, "architecture"),
                                   StringField(*platform, "variant")};
  }
  return descriptor;
}

absl::StatusOr<json> ParseObject(std::string_view data, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(json document, ParseJson(data, what));
  if (!document.is_object()) return Malformed(what, "not a JSON object");
  auto version = document.find("schemaVersion");
  if (version != document.end() && version->is_number_integer() && version->get<int>() == 1) {
    return Unsupported(what, media::kDockerSchema1);
  }
  return document;
}

absl::Status CheckLayerType(const Descriptor& layer, std::string_view what) {
  const std::string& type = layer.media_type;
  if (media::IsLayer(type)) return absl::OkStatus();
  if (media::IsForeignLayer(type)) {
    return absl::FailedPreconditionError(absl::StrCat(
        std::string(what), ": layer ", layer.digest, " has media type \"", type,
        "\", whose bytes come from foreign URLs; Berth pulls only layers the registry serves"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      std::string(what), ": layer ", layer.digest, " has media type \"", type,
      "\"; Berth unpacks tar layers, uncompressed or compressed with gzip or zstd"));
}

}  // namespace

absl::StatusOr<std::string> DetectMediaType(std::string_view content_type, std::string_view data,
                                            std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(json document, ParseObject(data, what));
  std::string type = StringField(document, "mediaType");
  if (type.empty()) {
    std::string header = ToLower(Trim(content_type.substr(0, content_type.find(';'))));
    if (media::IsIndex(header) || media::IsManifest(header) || media::IsSchema1(header)) {
      type = header;
    } else if (document.contains("manifests")) {
      type = std::string(media::kOciIndex);
    } else if (document.contains("layers") && document.contains("config")) {
      type = std::string(media::kOciManifest);
    } else {
      type = header;
    }
  }
  if (media::IsIndex(type) || media::IsManifest(type)) return type;
  return Unsupported(what, type);
}

absl::StatusOr<Manifest> ParseManifest(std::string_view data, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(json document, ParseObject(data, what));
  auto config = document.find("config");
  auto layers = document.find("layers");
  if (config == document.end()) return Malformed(what, "missing \"config\"");
  if (layers == document.end() || !layers->is_array()) return Malformed(what, "missing \"layers\"");

  if (layers->size() > kMaxLayers) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(what), " lists ",
                                                      layers->size(),
                                                      " layers, more than the limit of ",
                                                      kMaxLayers));
  }

  Manifest manifest;
  BERTH_ASSIGN_OR_RETURN(manifest.config, ParseDescriptor(*config, what));
  if (!media::IsConfig(manifest.config.media_type)) {
    return absl::FailedPreconditionError(absl::StrCat(
        std::string(what), ": config ", manifest.config.digest, " has media type \"",
        manifest.config.media_type, "\", which is not an image config"));
  }
  if (manifest.config.size > kMaxManifestBytes) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(what), ": config of ",
                                                      manifest.config.size,
                                                      " bytes exceeds the limit of ",
                                                      kMaxManifestBytes));
  }
  for (const json& entry : *layers) {
    BERTH_ASSIGN_OR_RETURN(Descriptor layer, ParseDescriptor(entry, what));
    BERTH_RETURN_IF_ERROR(CheckLayerType(layer, what));
    manifest.layers.push_back(std::move(layer));
  }
  return manifest;
}

absl::StatusOr<Index> ParseIndex(std::string_view data, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(json document, ParseObject(data, what));
  auto manifests = document.find("manifests");
  if (manifests == document.end() || !manifests->is_array()) {
    return Malformed(what, "missing \"manifests\"");
  }
  if (manifests->size() > kMaxIndexEntries) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(what), " lists ",
                                                      manifests->size(),
                                                      " manifests, more than the limit of ",
                                                      kMaxIndexEntries));
  }
  Index index;
  for (const json& entry : *manifests) {
    BERTH_ASSIGN_OR_RETURN(Descriptor descriptor, ParseDescriptor(entry, what));
    index.manifests.push_back(std::move(descriptor));
  }
  return index;
}

}  // namespace berth::image
