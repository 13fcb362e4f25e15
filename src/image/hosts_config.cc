#include "image/hosts_config.h"

#include <algorithm>
#include <filesystem>

#include <toml++/toml.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status.h"
#include "image/text.h"

namespace berth::image {
namespace {

constexpr const char* kHostsFile = "hosts.toml";
constexpr const char* kDefaultFolder = "_default";

// Reading one file: its path (for errors) and folder (for relative file names).
struct FileContext {
  std::string path;
  std::string folder;
};

absl::Status KeyError(const FileContext& file, const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(file.path, ": ", key, " ", why));
}

std::string Resolve(const FileContext& file, const std::string& name) {
  if (name.empty() || name.front() == '/') return name;
  return JoinPath(file.folder, name);
}

// A string or an array of strings.
absl::StatusOr<std::vector<std::string>> Strings(const toml::node& node, const FileContext& file,
                                                 const std::string& key) {
  if (const auto* value = node.as_string()) return std::vector<std::string>{value->get()};
  const toml::array* array = node.as_array();
  if (array == nullptr) return KeyError(file, key, "must be a string or an array of strings");
  std::vector<std::string> values;
  for (const toml::node& element : *array) {
    const auto* value = element.as_string();
    if (value == nullptr) return KeyError(file, key, "must hold only strings");
    values.push_back(value->get());
  }
  return values;
}

absl::StatusOr<bool> Bool(const toml::node& node, const FileContext& file, const std::string& key) {
  const auto* value = node.as_boolean();
  if (value == nullptr) return KeyError(file, key, "must be true or false");
  return value->get();
}

// client = "c.pem" | ["a.pem", ["b.cert", "b.key"]]. Only the first pair is used: libcurl
// presents one client certificate per connection.
absl::Status ApplyClient(const toml::node& node, const FileContext& file, const std::string& key,
                         TlsOptions& tls) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (const auto* single = node.as_string()) {
    pairs.emplace_back(single->get(), "");
  } else if (const toml::array* array = node.as_array()) {
    for (const toml::node& element : *array) {
      if (const auto* cert = element.as_string()) {
        pairs.emplace_back(cert->get(), "");
        continue;
      }
      const toml::array* pair = element.as_array();
      if (pair == nullptr || pair->empty() || pair->size() > 2 || !(*pair)[0].is_string() ||
          (pair->size() == 2 && !(*pair)[1].is_string())) {
        return KeyError(file, key, "entries must be a file name or a [cert, key] pair");
      }
      pairs.emplace_back((*pair)[0].as_string()->get(),
                         pair->size() == 2 ? (*pair)[1].as_string()->get() : "");
    }
  } else {
    return KeyError(file, key, "must be a file name or an array of them");
  }
  if (pairs.empty()) return absl::OkStatus();
  if (pairs.size() > 1) {
    Logger("image")->warn("hosts file={} key={} uses only the first client certificate",
                          file.path, key);
  }
  tls.client_cert_file = Resolve(file, pairs[0].first);
  tls.client_key_file = Resolve(file, pairs[0].second);
  return absl::OkStatus();
}

// Splits "https://host:port/path" into origin and path. Without a scheme, https is meant.
absl::Status SplitUrl(const std::string& url, const FileContext& file, const std::string& key,
                      std::string* origin, std::string* path) {
  std::string full = url.find("://") == std::string::npos ? absl::StrCat("https://", url) : url;
  auto scheme_end = full.find("://");
  std::string scheme = ToLower(full.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    return KeyError(file, key, absl::StrCat("has the URL \"", url, "\": only http and https"));
  }
  auto path_start = full.find('/', scheme_end + 3);
  *origin = full.substr(0, path_start);
  *path = path_start == std::string::npos ? "" : full.substr(path_start);
  if (origin->size() == scheme_end + 3) {
    return KeyError(file, key, absl::StrCat("has the URL \"", url, "\" without a host"));
  }
  while (!path->empty() && path->back() == '/') path->pop_back();
  return absl::OkStatus();
}

// Fills `host` from the keys of `table` (a [host."..."] table, or the top level for the server).
absl::Status ApplyHostKeys(const toml::table& table, const FileContext& file,
                           const std::string& prefix, RegistryEndpoint& host) {
  for (const auto& [name, node] : table) {
    std::string key = absl::StrCat(prefix, std::string(name.str()));
    if (name == "capabilities") {
      BERTH_ASSIGN_OR_RETURN(std::vector<std::string> caps, Strings(node, file, key));
      host.pull = std::find(caps.begin(), caps.end(), "pull") != caps.end();
      host.resolve = std::find(caps.begin(), caps.end(), "resolve") != caps.end();
    } else if (name == "skip_verify") {
      BERTH_ASSIGN_OR_RETURN(host.tls.skip_verify, Bool(node, file, key));
    } else if (name == "ca") {
      BERTH_ASSIGN_OR_RETURN(std::vector<std::string> files, Strings(node, file, key));
      for (const std::string& ca : files) host.tls.ca_files.push_back(Resolve(file, ca));
    } else if (name == "client") {
      BERTH_RETURN_IF_ERROR(ApplyClient(node, file, key, host.tls));
    } else if (name == "header") {
      const toml::table* headers = node.as_table();
      if (headers == nullptr) return KeyError(file, key, "must be a table");
      for (const auto& [header, values] : *headers) {
        std::string header_key = absl::StrCat(key, ".", std::string(header.str()));
        BERTH_ASSIGN_OR_RETURN(std::vector<std::string> list, Strings(values, file, header_key));
        for (const std::string& value : list) {
          host.headers.push_back(absl::StrCat(std::string(header.str()), ": ", value));
        }
      }
    }
  }
  return absl::OkStatus();
}

// Sets origin and api_root from `url`, honouring override_path in `table`.
absl::Status SetUrl(const std::string& url, const toml::table& table, const FileContext& file,
                    const std::string& key, RegistryEndpoint& host) {
  std::string path;
  BERTH_RETURN_IF_ERROR(SplitUrl(url, file, key, &host.origin, &path));
  bool override_path = false;
  if (const toml::node* node = table.get("override_path")) {
    BERTH_ASSIGN_OR_RETURN(override_path, Bool(*node, file, absl::StrCat(key, ".override_path")));
  }
  if (override_path) {
    host.api_root = path.empty() ? "/" : path;
  } else {
    host.api_root = path.ends_with("/v2") ? path : absl::StrCat(path, "/v2");
  }
  return absl::OkStatus();
}

// The older certs.d layout: *.crt files are CAs, a *.cert with its *.key a client certificate.
void ApplyCertFiles(const std::string& folder, RegistryEndpoint& host) {
  std::error_code error;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (name.ends_with(".crt")) host.tls.ca_files.push_back(JoinPath(folder, name));
    if (name.ends_with(".cert") && host.tls.client_cert_file.empty()) {
      std::string key = name.substr(0, name.size() - 5) + ".key";
      if (std::find(names.begin(), names.end(), key) == names.end()) continue;
      host.tls.client_cert_file = JoinPath(folder, name);
      host.tls.client_key_file = JoinPath(folder, key);
    }
  }
}

RegistryEndpoint DefaultServer(const std::string& default_server) {
  RegistryEndpoint server;
  server.origin = default_server;
  server.api_root = "/v2";
  server.is_server = true;
  return server;
}

}  // namespace

absl::StatusOr<HostsConfig> ParseHostsToml(const std::string& text, const std::string& path,
                                           const std::string& default_server) {
  FileContext file{path, std::filesystem::path(path).parent_path().string()};
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse ", path, " at line ", error.source().begin.line, " column ",
                     error.source().begin.column, ": ", std::string(error.description())));
  }

  HostsConfig config;
  config.source = path;
  RegistryEndpoint server = DefaultServer(default_server);
  if (const toml::node* node = root.get("server")) {
    const auto* url = node->as_string();
    if (url == nullptr) return KeyError(file, "server", "must be a string");
    BERTH_RETURN_IF_ERROR(SetUrl(url->get(), root, file, "server", server));
  }
  BERTH_RETURN_IF_ERROR(ApplyHostKeys(root, file, "", server));

  // toml++ keeps keys sorted; the file order of the mirrors is their source position.
  std::vector<std::pair<toml::source_position, RegistryEndpoint>> mirrors;
  if (const toml::node* node = root.get("host")) {
    const toml::table* hosts = node->as_table();
    if (hosts == nullptr) return KeyError(file, "host", "must be a table of [host.\"url\"]");
    for (const auto& [url, entry] : *hosts) {
      std::string key = absl::StrCat("host.\"", std::string(url.str()), "\"");
      const toml::table* table = entry.as_table();
      if (table == nullptr) return KeyError(file, key, "must be a table");
      RegistryEndpoint mirror;
      BERTH_RETURN_IF_ERROR(SetUrl(std::string(url.str()), *table, file, key, mirror));
      BERTH_RETURN_IF_ERROR(ApplyHostKeys(*table, file, key + ".", mirror));
      mirrors.emplace_back(url.source().begin, std::move(mirror));
    }
  }
  std::stable_sort(mirrors.begin(), mirrors.end(), [](const auto& a, const auto& b) {
    return a.first.line != b.first.line ? a.first.line < b.first.line
                                        : a.first.column < b.first.column;
  });
  for (auto& [position, mirror] : mirrors) config.hosts.push_back(std::move(mirror));
  config.hosts.push_back(std::move(server));
  return config;
}

absl::StatusOr<HostsConfig> LoadHostsConfig(const std::string& config_dir,
                                            const std::string& domain,
                                            const std::string& default_server) {
  HostsConfig fallback;
  fallback.hosts.push_back(DefaultServer(default_server));
  if (config_dir.empty()) return fallback;
  if (domain.empty() || domain.find('/') != std::string::npos || domain.front() == '.') {
    return absl::InvalidArgumentError(absl::StrCat("registry \"", domain, "\" is not a host name"));
  }

  for (const std::string& folder : {domain, std::string(kDefaultFolder)}) {
    std::string dir = JoinPath(config_dir, folder);
    std::string path = JoinPath(dir, kHostsFile);
    auto text = ReadFile(path);
    if (text.ok()) return ParseHostsToml(*text, path, default_server);
    if (!absl::IsNotFound(text.status())) return text.status();
    if (folder == domain && PathExists(dir)) {
      ApplyCertFiles(dir, fallback.hosts.back());
      fallback.source = dir;
      return fallback;
    }
  }
  return fallback;
}

}  // namespace berth::image
