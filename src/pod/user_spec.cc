#include "pod/user_spec.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status.h"

namespace berth::pod {
namespace {

// The lines of database file `file` ("etc/passwd", "etc/group") of the image, split into
// fields. The top-most layer holding the file decides, as it hides the ones below it.
std::vector<std::vector<std::string>> ImageDatabase(const std::vector<std::string>& layer_dirs,
                                                    const std::string& file) {
  std::vector<std::vector<std::string>> entries;
  for (auto layer = layer_dirs.rbegin(); layer != layer_dirs.rend(); ++layer) {
    absl::StatusOr<std::string> text = ReadFile(JoinPath(*layer, file));
    if (!text.ok()) continue;
    for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      if (line.front() == '#') continue;
      entries.push_back(absl::StrSplit(line, ':'));
    }
    break;
  }
  return entries;
}

// A user or group part that looks like a number ("+5", "-1", "99999999999") is an id, whatever
// its value, as the kubelet reads it the same way.
bool LooksNumeric(const std::string& text) {
  size_t start = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  return text.size() > start && std::all_of(text.begin() + start, text.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

absl::StatusOr<uint32_t> ParseId(const std::string& text, const std::string& field) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " \"", text, "\" is out of range [0, ",
                                                   kMaxId, "]"));
  }
  return CheckId(value, field);
}

// Reads field `index` of a database entry as an id.
absl::StatusOr<uint32_t> EntryId(const std::vector<std::string>& entry, size_t index,
                                 const std::string& file) {
  if (entry.size() <= index || !LooksNumeric(entry[index])) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed ", file, " entry \"", entry[0], "\" in the image"));
  }
  return ParseId(entry[index], absl::StrCat("id of ", file, " entry \"", entry[0], "\""));
}

const std::vector<std::string>* FindEntry(const std::vector<std::vector<std::string>>& entries,
                                          const std::string& name) {
  for (const auto& entry : entries) {
    if (entry.size() >= 3 && entry[0] == name) return &entry;
  }
  return nullptr;
}

const std::vector<std::string>* FindUid(const std::vector<std::vector<std::string>>& passwd,
                                        uint32_t uid) {
  for (const auto& entry : passwd) {
    uint32_t entry_uid = 0;
    if (entry.size() >= 4 && absl::SimpleAtoi(entry[2], &entry_uid) && entry_uid == uid) {
      return &entry;
    }
  }
  return nullptr;
}

// The gids of the groups in `group` whose member list names `user`.
std::vector<uint32_t> MemberGroups(const std::vector<std::vector<std::string>>& group,
                                   const std::string& user) {
  std::vector<uint32_t> gids;
  for (const auto& entry : group) {
    if (entry.size() < 4) continue;
    std::vector<std::string> members = absl::StrSplit(entry[3], ',', absl::SkipEmpty());
    uint32_t gid = 0;
    if (std::find(members.begin(), members.end(), user) != members.end() &&
        absl::SimpleAtoi(entry[2], &gid) && gid <= kMaxId) {
      gids.push_back(gid);
    }
  }
  return gids;
}

void AddUnique(std::vector<uint32_t>& list, uint32_t gid) {
  if (std::find(list.begin(), list.end(), gid) == list.end()) list.push_back(gid);
}

// The user's name in the image: the name itself, or the passwd entry of a numeric uid.
std::optional<std::string> UserName(const std::string& user_part, uint32_t uid,
                                    const std::vector<std::vector<std::string>>& passwd) {
  if (!user_part.empty() && !LooksNumeric(user_part)) return user_part;
  const std::vector<std::string>* entry = FindUid(passwd, uid);
  if (entry == nullptr) return std::nullopt;
  return (*entry)[0];
}

}  // namespace

absl::StatusOr<uint32_t> CheckId(int64_t value, const std::string& field) {
  if (value < 0 || value > kMaxId) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", value, " is out of range [0, ", kMaxId, "]"));
  }
  return static_cast<uint32_t>(value);
}

absl::StatusOr<runtime::User> ResolveUser(const std::string& user,
                                          const std::vector<std::string>& layer_dirs) {
  runtime::User result;
  if (user.empty()) return result;
  std::vector<std::string> parts = absl::StrSplit(user, absl::MaxSplits(':', 1));
  const std::string& name = parts[0];
  std::string group = parts.size() > 1 ? parts[1] : "";
  auto passwd = ImageDatabase(layer_dirs, "etc/passwd");

  if (LooksNumeric(name)) {
    // A numeric uid needs no passwd entry. When the image has one, its primary group is the
    // default gid; otherwise the gid is 0 unless the spec names one.
    BERTH_ASSIGN_OR_RETURN(result.uid, ParseId(name, "uid"));
    const std::vector<std::string>* entry = FindUid(passwd, result.uid);
    if (entry != nullptr) {
      absl::StatusOr<uint32_t> gid = EntryId(*entry, 3, "/etc/passwd");
      if (gid.ok()) result.gid = *gid;
    }
  } else {
    const std::vector<std::string>* entry = FindEntry(passwd, name);
    if (entry == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no entry \"", name, "\" in the image's etc/passwd"));
    }
    BERTH_ASSIGN_OR_RETURN(result.uid, EntryId(*entry, 2, "/etc/passwd"));
    BERTH_ASSIGN_OR_RETURN(result.gid, EntryId(*entry, 3, "/etc/passwd"));
  }

  if (group.empty()) return result;
  if (LooksNumeric(group)) {
    BERTH_ASSIGN_OR_RETURN(result.gid, ParseId(group, "gid"));
    return result;
  }
  auto groups = ImageDatabase(layer_dirs, "etc/group");
  const std::vector<std::string>* entry = FindEntry(groups, group);
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat("no entry \"", group, "\" in the image's etc/group"));
  }
  BERTH_ASSIGN_OR_RETURN(result.gid, EntryId(*entry, 2, "/etc/group"));
  return result;
}

absl::StatusOr<runtime::User> ContainerUser(
    const ::runtime::v1::LinuxContainerSecurityContext& security, const std::string& image_user,
    const std::vector<std::string>& layer_dirs) {
  std::string user = image_user;
  if (security.has_run_as_user()) {
    BERTH_ASSIGN_OR_RETURN(uint32_t uid, CheckId(security.run_as_user().value(),
                                                 "security_context.run_as_user"));
    user = absl::StrCat(uid);
  } else if (!security.run_as_username().empty()) {
    user = security.run_as_username();
  }
  BERTH_ASSIGN_OR_RETURN(runtime::User result, ResolveUser(user, layer_dirs));
  if (security.has_run_as_group()) {
    BERTH_ASSIGN_OR_RETURN(result.gid, CheckId(security.run_as_group().value(),
                                               "security_context.run_as_group"));
  }

  std::vector<uint32_t> gids = {result.gid};
  if (security.supplemental_groups_policy() != ::runtime::v1::Strict) {
    std::string user_part = user.substr(0, user.find(':'));
    auto passwd = ImageDatabase(layer_dirs, "etc/passwd");
    std::optional<std::string> name = UserName(user_part, result.uid, passwd);
    if (name) {
      for (uint32_t gid : MemberGroups(ImageDatabase(layer_dirs, "etc/group"), *name)) {
        AddUnique(gids, gid);
      }
    }
  }
  for (int64_t value : security.supplemental_groups()) {
    BERTH_ASSIGN_OR_RETURN(uint32_t gid,
                           CheckId(value, "security_context.supplemental_groups"));
    AddUnique(gids, gid);
  }
  result.additional_gids = std::move(gids);
  return result;
}

absl::Status CheckPodUserIds(const ::runtime::v1::LinuxSandboxSecurityContext& security) {
  if (security.has_run_as_user()) {
    BERTH_RETURN_IF_ERROR(
        CheckId(security.run_as_user().value(), "security_context.run_as_user").status());
  }
  if (security.has_run_as_group()) {
    BERTH_RETURN_IF_ERROR(
        CheckId(security.run_as_group().value(), "security_context.run_as_group").status());
  }
  for (int64_t gid : security.supplemental_groups()) {
    BERTH_RETURN_IF_ERROR(CheckId(gid, "security_context.supplemental_groups").status());
  }
  return absl::OkStatus();
}

}  // namespace berth::pod
