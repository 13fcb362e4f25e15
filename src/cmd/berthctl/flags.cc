#include "cmd/berthctl/flags.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::ctl {
namespace {

// Nanoseconds per unit of the Go duration syntax.
double UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "µs") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  return 0;
}

bool IsNumberChar(char c) { return (c >= '0' && c <= '9') || c == '.'; }

// Help lines are wrapped to fit this many columns.
constexpr size_t kUsageWidth = 100;

std::string Quoted(std::string_view text) { return absl::StrCat("\"", std::string(text), "\""); }

}  // namespace

absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string original(text);
  if (text.empty()) return absl::InvalidArgumentError("empty duration");
  if (text.front() == '-') {
    return absl::InvalidArgumentError(absl::StrCat("negative duration ", Quoted(original)));
  }
  if (text.front() == '+') text.remove_prefix(1);

  // A bare number is a count of seconds, a convenience Go's syntax does not have.
  double bare = 0;
  if (std::all_of(text.begin(), text.end(), IsNumberChar) &&
      absl::SimpleAtod(std::string(text), &bare)) {
    bare *= 1e9;
    if (bare > 9e18) {
      return absl::InvalidArgumentError(absl::StrCat("duration ", Quoted(original), " is too long"));
    }
    return std::chrono::milliseconds(std::llround(bare) / 1000000);
  }

  double total_nanos = 0;
  while (!text.empty()) {
    size_t number_end = 0;
    while (number_end < text.size() && IsNumberChar(text[number_end])) ++number_end;
    size_t unit_end = number_end;
    while (unit_end < text.size() && !IsNumberChar(text[unit_end])) ++unit_end;

    double number = 0;
    const double unit = UnitNanos(text.substr(number_end, unit_end - number_end));
    if (number_end == 0 || !absl::SimpleAtod(std::string(text.substr(0, number_end)), &number) ||
        unit == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid duration ", Quoted(original),
                       " (use a number with a unit among ns, us, ms, s, m, h, e.g. 2s or 1m30s)"));
    }
    total_nanos += number * unit;
    text.remove_prefix(unit_end);
  }
  if (total_nanos > 9e18) {
    return absl::InvalidArgumentError(absl::StrCat("duration ", Quoted(original), " is too long"));
  }
  // Rounding to whole nanoseconds first keeps "1.001s" from becoming 1000ms.
  return std::chrono::milliseconds(std::llround(total_nanos) / 1000000);
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms >= 3600000) {
    absl::StrAppend(&out, ms / 3600000, "h");
    ms %= 3600000;
  }
  if (ms >= 60000) {
    absl::StrAppend(&out, ms / 60000, "m");
    ms %= 60000;
  }
  if (ms >= 1000 && ms % 1000 == 0) {
    absl::StrAppend(&out, ms / 1000, "s");
  } else if (ms >= 1000 || (ms > 0 && !out.empty())) {
    absl::StrAppend(&out, ms / 1000, ".", absl::StrCat(1000 + ms % 1000).substr(1), "s");
  } else if (ms > 0) {
    absl::StrAppend(&out, ms, "ms");
  }
  return out;
}

void FlagSet::Add(Flag flag) { flags_.push_back(std::move(flag)); }

void FlagSet::AddBool(std::string name, char short_name, bool* value, std::string help) {
  Add({std::move(name), short_name, Kind::kBool, value, "", std::move(help)});
}

void FlagSet::AddString(std::string name, char short_name, std::string* value,
                        std::string value_name, std::string help) {
  Add({std::move(name), short_name, Kind::kString, value, std::move(value_name), std::move(help)});
}

void FlagSet::AddInt(std::string name, char short_name, int64_t* value, std::string value_name,
                     std::string help) {
  Add({std::move(name), short_name, Kind::kInt, value, std::move(value_name), std::move(help)});
}

void FlagSet::AddDuration(std::string name, char short_name, std::chrono::milliseconds* value,
                          std::string help) {
  Add({std::move(name), short_name, Kind::kDuration, value, "DURATION", std::move(help)});
}

void FlagSet::AddStringList(std::string name, char short_name, std::vector<std::string>* values,
                            std::string value_name, std::string help) {
  Add({std::move(name), short_name, Kind::kStringList, values, std::move(value_name),
       std::move(help)});
}

const FlagSet::Flag* FlagSet::FindLong(std::string_view name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

const FlagSet::Flag* FlagSet::FindShort(char short_name) const {
  for (const Flag& flag : flags_) {
    if (flag.short_name != 0 && flag.short_name == short_name) return &flag;
  }
  return nullptr;
}

absl::Status FlagSet::Assign(const Flag& flag, std::string_view value) {
  const std::string text(value);
  switch (flag.kind) {
    case Kind::kBool: {
      const std::string lower = absl::AsciiStrToLower(text);
      if (lower == "true" || lower == "1") {
        *static_cast<bool*>(flag.target) = true;
      } else if (lower == "false" || lower == "0") {
        *static_cast<bool*>(flag.target) = false;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", flag.name, ": expected true or false, got ", Quoted(text)));
      }
      return absl::OkStatus();
    }
    case Kind::kString:
      *static_cast<std::string*>(flag.target) = text;
      return absl::OkStatus();
    case Kind::kInt: {
      int64_t number = 0;
      if (!absl::SimpleAtoi(text, &number)) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", flag.name, ": expected an integer, got ", Quoted(text)));
      }
      *static_cast<int64_t*>(flag.target) = number;
      return absl::OkStatus();
    }
    case Kind::kDuration: {
      absl::StatusOr<std::chrono::milliseconds> duration = ParseDuration(text);
      if (!duration.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", flag.name, ": ", duration.status().message()));
      }
      *static_cast<std::chrono::milliseconds*>(flag.target) = *duration;
      return absl::OkStatus();
    }
    case Kind::kStringList:
      static_cast<std::vector<std::string>*>(flag.target)->push_back(text);
      return absl::OkStatus();
  }
  return absl::InternalError("unknown flag kind");
}

absl::Status FlagSet::ParseLong(const std::vector<std::string>& args, size_t* index) {
  std::string_view arg = std::string_view(args[*index]).substr(2);
  std::string_view name = arg;
  std::string_view inline_value;
  const size_t equals = arg.find('=');
  const bool has_inline_value = equals != std::string_view::npos;
  if (has_inline_value) {
    name = arg.substr(0, equals);
    inline_value = arg.substr(equals + 1);
  }

  if (name == "help") {
    help_requested_ = true;
    return absl::OkStatus();
  }
  const Flag* flag = FindLong(name);
  if (flag == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag --", std::string(name)));
  }
  if (has_inline_value) return Assign(*flag, inline_value);
  if (flag->kind == Kind::kBool) return Assign(*flag, "true");
  if (*index + 1 >= args.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", flag->name, " needs a value (", flag->value_name, ")"));
  }
  ++*index;
  return Assign(*flag, args[*index]);
}

absl::Status FlagSet::ParseShort(const std::vector<std::string>& args, size_t* index) {
  const std::string& arg = args[*index];
  // Walk a cluster such as -aq. A flag that takes a value ends the cluster: its value is the rest
  // of the argument (-n5), or else the next argument (-n 5).
  for (size_t pos = 1; pos < arg.size(); ++pos) {
    const char c = arg[pos];
    if (c == 'h') {
      help_requested_ = true;
      return absl::OkStatus();
    }
    const Flag* flag = FindShort(c);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag -", std::string(1, c)));
    }
    if (flag->kind == Kind::kBool) {
      if (absl::Status status = Assign(*flag, "true"); !status.ok()) return status;
      continue;
    }
    std::string_view rest = std::string_view(arg).substr(pos + 1);
    if (!rest.empty() && rest.front() == '=') rest.remove_prefix(1);
    if (!rest.empty()) return Assign(*flag, rest);
    if (*index + 1 >= args.size()) {
      return absl::InvalidArgumentError(absl::StrCat("flag -", std::string(1, c), " (--",
                                                     flag->name, ") needs a value (",
                                                     flag->value_name, ")"));
    }
    ++*index;
    return Assign(*flag, args[*index]);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<ptrdiff_t>(i) + 1,
                        args.end());
      break;
    }

    absl::Status status;
    if (arg.size() > 2 && arg.starts_with("--")) {
      status = ParseLong(args, &i);
    } else if (arg.size() > 1 && arg.front() == '-') {
      status = ParseShort(args, &i);
    } else if (stop_at_first_positional_) {
      positional.insert(positional.end(), args.begin() + static_cast<ptrdiff_t>(i), args.end());
      break;
    } else {
      positional.push_back(arg);
    }
    if (!status.ok()) return status;
    if (help_requested_) break;
  }
  return positional;
}

std::string FlagSet::Usage() const {
  std::vector<std::pair<std::string, const Flag*>> lines;
  size_t width = 0;
  for (const Flag& flag : flags_) {
    std::string left = flag.short_name != 0 ? absl::StrCat("-", std::string(1, flag.short_name),
                                                           ", ")
                                            : "    ";
    absl::StrAppend(&left, "--", flag.name);
    if (flag.kind != Kind::kBool) absl::StrAppend(&left, " ", flag.value_name);
    width = std::max(width, left.size());
    lines.emplace_back(std::move(left), &flag);
  }
  lines.emplace_back("-h, --help", nullptr);
  width = std::max<size_t>(width, 10);

  // Help text wraps at kUsageWidth columns, continuing under its first line.
  const size_t indent = 2 + width + 3;
  const size_t room = indent + 30 < kUsageWidth ? kUsageWidth - indent : 30;
  std::string out;
  for (const auto& [left, flag] : lines) {
    absl::StrAppend(&out, "  ", left, std::string(width - left.size() + 3, ' '));
    size_t used = 0;
    for (absl::string_view word :
         absl::StrSplit(flag != nullptr ? flag->help : "show this help", ' ', absl::SkipEmpty())) {
      if (used > 0 && used + 1 + word.size() > room) {
        absl::StrAppend(&out, "\n", std::string(indent, ' '));
        used = 0;
      } else if (used > 0) {
        out += ' ';
        ++used;
      }
      absl::StrAppend(&out, word);
      used += word.size();
    }
    out += '\n';
  }
  return out;
}

}  // namespace berth::ctl
