// A small command-line flag parser for berthctl.
//
// Flags are declared by binding them to variables, then Parse() walks the arguments:
//   --name value, --name=value, -n value, -nvalue, -abc (several boolean short flags),
//   --flag / --flag=false for booleans, and "--" to end the flags.
// Flags may come before, between or after the positional arguments. With
// set_stop_at_first_positional(true) they end at the first positional argument, which lets
// `exec` pass the command's own flags through.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::ctl {

// Parses a duration as Go writes them: a sequence of decimal numbers, each with a unit among
// ns, us, ms, s, m, h ("500ms", "1m30s", "1.5h"). A bare number means seconds. Negative
// durations are InvalidArgument. The result is rounded down to whole milliseconds.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Formats a duration the way ParseDuration reads it back, e.g. "2s", "1m30s", "250ms", "0s".
std::string FormatDuration(std::chrono::milliseconds duration);

class FlagSet {
 public:
  FlagSet() = default;
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Each Add* binds a flag to a variable that must outlive the FlagSet. `name` is the long name
  // without dashes. `short_name` is one character, or 0 for none. `value_name` names the value in
  // the help text (e.g. "ID"), and `help` describes the flag, including its default.
  void AddBool(std::string name, char short_name, bool* value, std::string help);
  void AddString(std::string name, char short_name, std::string* value, std::string value_name,
                 std::string help);
  void AddInt(std::string name, char short_name, int64_t* value, std::string value_name,
              std::string help);
  void AddDuration(std::string name, char short_name, std::chrono::milliseconds* value,
                   std::string help);
  // A repeatable flag: every occurrence appends its value.
  void AddStringList(std::string name, char short_name, std::vector<std::string>* values,
                     std::string value_name, std::string help);

  // When set, the first positional argument ends flag parsing: it and everything after it are
  // returned as positional arguments.
  void set_stop_at_first_positional(bool stop) { stop_at_first_positional_ = stop; }

  // Parses `args` (without the program or verb name) into the bound variables and returns the
  // positional arguments. An unknown flag, a missing value or a value of the wrong form is
  // InvalidArgument naming the flag. -h and --help stop parsing and set help_requested().
  absl::StatusOr<std::vector<std::string>> Parse(const std::vector<std::string>& args);

  // True when Parse() met -h or --help.
  bool help_requested() const { return help_requested_; }

  // The flag list for help text: one line per flag, "  -s, --long VALUE   help", aligned.
  std::string Usage() const;

 private:
  enum class Kind { kBool, kString, kInt, kDuration, kStringList };

  struct Flag {
    std::string name;
    char short_name = 0;
    Kind kind = Kind::kBool;
    void* target = nullptr;
    std::string value_name;
    std::string help;
  };

  void Add(Flag flag);
  const Flag* FindLong(std::string_view name) const;
  const Flag* FindShort(char short_name) const;
  static absl::Status Assign(const Flag& flag, std::string_view value);

  // Parses one "-..." or "--..." argument at args[*index], taking its value from the next
  // argument when needed (and then advancing *index past it).
  absl::Status ParseLong(const std::vector<std::string>& args, size_t* index);
  absl::Status ParseShort(const std::vector<std::string>& args, size_t* index);

  std::vector<Flag> flags_;
  bool stop_at_first_positional_ = false;
  bool help_requested_ = false;
};

}  // namespace berth::ctl
