// Image references ("busybox", "user/app:1.0", "host:5000/a/b@sha256:...") parsed and normalised
// the way the Docker distribution grammar, kubelet and containerd read them:
//
//   busybox                   -> docker.io/library/busybox:latest
//   user/app                  -> docker.io/user/app:latest
//   localhost/x               -> localhost/x:latest
//   host:5000/a/b:tag         -> host:5000/a/b:tag
//   busybox@sha256:<hex>      -> docker.io/library/busybox@sha256:<hex>   (no tag added)
//   busybox:1.36@sha256:<hex> -> keeps both; the digest is what gets fetched
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace berth::image {

struct Reference {
  std::string domain;  // registry name as written in references: "docker.io", "host:5000"
  std::string path;    // repository path inside the registry: "library/busybox"
  std::string tag;     // "latest" when neither tag nor digest was given; empty with a digest alone
  std::string digest;  // "sha256:<hex>", or empty

  // "docker.io/library/busybox": the repository, without tag or digest.
  std::string Repository() const;

  // The full normalised reference: Repository() then ":tag" and "@digest" when present.
  std::string String() const;

  // "<repository>:<tag>", or empty when there is no tag.
  std::string TagRef() const;

  // "<repository>@<digest>" for any digest (e.g. the digest a pull resolved a tag to).
  std::string DigestRef(std::string_view digest) const;

  // What to ask the registry for: the digest when there is one, else the tag.
  std::string ManifestKey() const { return digest.empty() ? tag : digest; }
};

// Parses and normalises `text`. A bad reference is InvalidArgument naming the reference and what
// is wrong with it (uppercase repository, bad tag, bad digest, too long, empty component, ...).
absl::StatusOr<Reference> ParseReference(std::string_view text);

// The host to contact for a registry domain: "docker.io" -> "registry-1.docker.io", any other
// domain unchanged.
std::string RegistryHost(std::string_view domain);

inline constexpr std::string_view kDockerHubDomain = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";

}  // namespace berth::image
