// Small std::string_view helpers. The absl string functions of this toolchain take
// absl::string_view, which is not std::string_view, so the image module uses these instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

// Splits `text` at every `separator`; empty pieces are kept unless `skip_empty`.
inline std::vector<std::string_view> Split(std::string_view text, char separator,
                                           bool skip_empty = false) {
  std::vector<std::string_view> pieces;
  while (true) {
    auto end = text.find(separator);
    std::string_view piece = text.substr(0, end);
    if (!piece.empty() || !skip_empty) pieces.push_back(piece);
    if (end == std::string_view::npos) return pieces;
    text.remove_prefix(end + 1);
  }
}

// Joins `pieces` with `separator` between them.
inline std::string Join(const std::vector<std::string_view>& pieces, std::string_view separator) {
  std::string result;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) result += separator;
    result += pieces[i];
  }
  return result;
}

// Lowercases ASCII letters.
inline std::string ToLower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

// Strips spaces and tabs at both ends.
inline std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace berth::image
