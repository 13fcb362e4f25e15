#include "image/reference.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "image/digest.h"
#include "image/text.h"

namespace berth::image {
namespace {

// Limits of the distribution reference grammar.
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

absl::Status Invalid(std::string_view text, std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid image reference \"", std::string(text), "\": ", std::string(reason)));
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// A path component is lowercase alphanumerics joined by one separator: ".", "_", "__", or any
// number of "-".
bool IsValidPathComponent(std::string_view component) {
  if (component.empty() || !IsLowerAlnum(component.front()) ||
      !IsLowerAlnum(component.back())) {
    return false;
  }
  size_t i = 0;
  while (i < component.size()) {
    if (IsLowerAlnum(component[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < component.size() && !IsLowerAlnum(component[i])) ++i;
    std::string_view separator = component.substr(start, i - start);
    bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
    if (separator != "." && separator != "_" && separator != "__" && !dashes) return false;
  }
  return true;
}

// A domain is dot-separated labels of letters, digits and inner dashes, with an optional port.
bool IsValidDomain(std::string_view domain) {
  std::string_view host = domain;
  auto colon = domain.find(':');
  if (colon != std::string_view::npos) {
    host = domain.substr(0, colon);
    std::string_view port = domain.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (!IsDigit(c)) return false;
    }
  }
  if (host.empty()) return false;
  for (std::string_view label : Split(host, '.')) {
    if (label.empty() || !IsAlnum(label.front()) || !IsAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
  }
  return true;
}

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength) return false;
  auto word = [](char c) { return IsAlnum(c) || c == '_'; };
  if (!word(tag.front())) return false;
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The first component names a registry when it looks like a host (has "." or ":", or is
// "localhost") or has uppercase letters, which repository paths never have.
bool LooksLikeDomain(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos || component == "localhost" ||
         ToLower(component) != component;
}

}  // namespace

std::string Reference::Repository() const { return absl::StrCat(domain, "/", path); }

std::string Reference::String() const {
  std::string result = Repository();
  if (!tag.empty()) absl::StrAppend(&result, ":", tag);
  if (!digest.empty()) absl::StrAppend(&result, "@", digest);
  return result;
}

std::string Reference::TagRef() const {
  return tag.empty() ? std::string() : absl::StrCat(Repository(), ":", tag);
}

std::string Reference::DigestRef(std::string_view digest_value) const {
  return absl::StrCat(Repository(), "@", std::string(digest_value));
}

absl::StatusOr<Reference> ParseReference(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty reference");
  Reference ref;

  // name[:tag][@digest]: the digest is everything after the only "@".
  std::string_view rest = text;
  auto at = rest.find('@');
  if (at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (ref.digest.find('@') != std::string::npos) return Invalid(text, "more than one \"@\"");
    absl::Status valid = ValidateDigest(ref.digest);
    if (!valid.ok()) return Invalid(text, std::string(valid.message()));
  }

  // The tag follows the last ":" that comes after the last "/" (a ":" before it is a port).
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!IsValidTag(ref.tag)) {
      return Invalid(text, absl::StrCat("invalid tag \"", ref.tag,
                                        "\" (letters, digits, \"_\", \".\" and \"-\", at most ",
                                        kMaxTagLength, " characters, not starting with . or -)"));
    }
  }
  if (rest.empty()) return Invalid(text, "missing repository name");

  std::vector<std::string_view> components = Split(rest, '/');
  if (components.size() > 1 && LooksLikeDomain(components.front())) {
    ref.domain = std::string(components.front());
    components.erase(components.begin());
    if (!IsValidDomain(ref.domain)) {
      return Invalid(text, absl::StrCat("invalid registry host \"", ref.domain, "\""));
    }
  } else {
    ref.domain = std::string(kDockerHubDomain);
  }
  if (ref.domain == "index.docker.io") ref.domain = std::string(kDockerHubDomain);

  for (std::string_view component : components) {
    if (IsValidPathComponent(component)) continue;
    if (ToLower(component) != component) {
      return Invalid(text, "repository name must be lowercase");
    }
    if (component.empty()) return Invalid(text, "empty path component");
    return Invalid(text, absl::StrCat("invalid path component \"", std::string(component),
                                      "\" (lowercase letters and digits, separated by one of "
                                      "\".\", \"_\", \"__\" or dashes)"));
  }
  if (ref.domain == kDockerHubDomain && components.size() == 1) {
    if (IsHex64(components.front())) {
      return Invalid(text, "a 64-digit hex string is an image id, not a repository name");
    }
    components.insert(components.begin(), "library");
  }
  ref.path = Join(components, "/");

  if (ref.Repository().size() > kMaxNameLength) {
    return Invalid(text, absl::StrCat("repository name longer than ", kMaxNameLength,
                                      " characters"));
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(kDefaultTag);
  return ref;
}

std::string RegistryHost(std::string_view domain) {
  if (domain == kDockerHubDomain) return "registry-1.docker.io";
  return std::string(domain);
}

}  // namespace berth::image
