#include "cmd/berthctl/schema_json.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

std::string Shown(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

absl::Status Mismatch(const std::string& path, const std::string& expected, const json& value) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": expected ", expected, ", got ", Shown(value)));
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}

const FieldDescriptor* FindField(const Descriptor& descriptor, const std::string& key) {
  if (const FieldDescriptor* field = descriptor.FindFieldByName(key)) return field;
  for (int i = 0; i < descriptor.field_count(); ++i) {
    if (descriptor.field(i)->json_name() == key) return descriptor.field(i);
  }
  return nullptr;
}

absl::StatusOr<json> ConformMessage(const json& value, const Descriptor& descriptor,
                                    const std::string& path);

// Text for a string or bytes field: numbers and booleans are taken as they are written.
absl::StatusOr<std::string> AsText(const json& value, const std::string& path) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  return Mismatch(path, "a string", value);
}

absl::StatusOr<bool> AsBool(const json& value, const std::string& path) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string()) {
    const std::string lower = absl::AsciiStrToLower(value.get<std::string>());
    if (lower == "true") return true;
    if (lower == "false") return false;
  }
  return Mismatch(path, "true or false", value);
}

// Reads an integer field value of the given signedness and width and checks its range. JSON
// numbers and decimal text are accepted, fractions are not.
absl::StatusOr<json> AsInteger(const json& value, const std::string& path, bool is_signed,
                               int bits) {
  const std::string expected =
      absl::StrCat(is_signed ? "a" : "an unsigned", " ", bits, "-bit integer");
  const double max = std::ldexp(1.0, is_signed ? bits - 1 : bits);
  const double min = is_signed ? -max : 0;

  if (is_signed) {
    int64_t number = 0;
    bool ok = false;
    if (value.is_number_integer()) {
      ok = !(value.is_number_unsigned() &&
             value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
      if (ok) number = value.get<int64_t>();
    } else if (value.is_number_float()) {
      const double d = value.get<double>();
      ok = std::trunc(d) == d && d >= min && d < max;
      if (ok) number = static_cast<int64_t>(d);
    } else if (value.is_string()) {
      ok = absl::SimpleAtoi(value.get<std::string>(), &number);
    }
    const bool in_range = bits == 64 || (static_cast<double>(number) >= min &&
                                         static_cast<double>(number) < max);
    if (!ok || !in_range) return Mismatch(path, expected, value);
    // 64-bit integers go as text, which the proto3 JSON parser reads without rounding.
    return bits == 64 ? json(absl::StrCat(number)) : json(number);
  }

  uint64_t number = 0;
  bool ok = false;
  if (value.is_number_unsigned()) {
    ok = true;
    number = value.get<uint64_t>();
  } else if (value.is_number_integer()) {
    ok = false;  // a negative signed number
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    ok = std::trunc(d) == d && d >= 0 && d < max;
    if (ok) number = static_cast<uint64_t>(d);
  } else if (value.is_string()) {
    ok = absl::SimpleAtoi(value.get<std::string>(), &number);
  }
  if (!ok || (bits < 64 && static_cast<double>(number) >= max)) {
    return Mismatch(path, expected, value);
  }
  return bits == 64 ? json(absl::StrCat(number)) : json(number);
}

absl::StatusOr<json> AsFloat(const json& value, const std::string& path) {
  if (value.is_number()) return value;
  double number = 0;
  if (value.is_string() && absl::SimpleAtod(value.get<std::string>(), &number)) return number;
  return Mismatch(path, "a number", value);
}

// Enum values are accepted by name (in any letter case) or by number, and given back by name.
absl::StatusOr<json> AsEnum(const json& value, const FieldDescriptor& field,
                            const std::string& path) {
  const auto* type = field.enum_type();
  const EnumValueDescriptor* found = nullptr;
  if (value.is_string()) {
    const std::string name = value.get<std::string>();
    found = type->FindValueByName(name);
    for (int i = 0; found == nullptr && i < type->value_count(); ++i) {
      if (absl::EqualsIgnoreCase(type->value(i)->name(), name)) found = type->value(i);
    }
    int64_t number = 0;
    if (found == nullptr && absl::SimpleAtoi(name, &number)) {
      found = type->FindValueByNumber(static_cast<int>(number));
    }
  } else if (value.is_number_integer()) {
    found = type->FindValueByNumber(value.get<int>());
  }
  if (found == nullptr) {
    return Mismatch(path, absl::StrCat("a value of ", type->full_name(), " such as ",
                                       type->value(type->value_count() > 1 ? 1 : 0)->name()),
                    value);
  }
  return json(found->name());
}

// Conforms one value of a field's element type (a single element for repeated fields).
absl::StatusOr<json> ConformSingle(const json& value, const FieldDescriptor& field,
                                   const std::string& path) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      absl::StatusOr<std::string> text = AsText(value, path);
      if (!text.ok()) return text.status();
      // Bytes fields (such as an environment value) are written in config files as plain text,
      // and proto3 JSON expects them base64-encoded.
      if (field.type() == FieldDescriptor::TYPE_BYTES) return json(absl::Base64Escape(*text));
      return json(*text);
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      absl::StatusOr<bool> flag = AsBool(value, path);
      if (!flag.ok()) return flag.status();
      return json(*flag);
    }
    case FieldDescriptor::CPPTYPE_INT32:
      return AsInteger(value, path, true, 32);
    case FieldDescriptor::CPPTYPE_INT64:
      return AsInteger(value, path, true, 64);
    case FieldDescriptor::CPPTYPE_UINT32:
      return AsInteger(value, path, false, 32);
    case FieldDescriptor::CPPTYPE_UINT64:
      return AsInteger(value, path, false, 64);
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return AsFloat(value, path);
    case FieldDescriptor::CPPTYPE_ENUM:
      return AsEnum(value, field, path);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return ConformMessage(value, *field.message_type(), path);
  }
  return absl::InternalError(absl::StrCat(path, ": unhandled field type"));
}

absl::StatusOr<json> ConformField(const json& value, const FieldDescriptor& field,
                                  const std::string& path) {
  if (field.is_map()) {
    if (!value.is_object()) return Mismatch(path, "a mapping of keys to values", value);
    const FieldDescriptor& value_field = *field.message_type()->map_value();
    json out = json::object();
    for (const auto& [key, item] : value.items()) {
      const std::string item_path = Join(path, key);
      if (item.is_null()) return Mismatch(item_path, "a value", item);
      absl::StatusOr<json> conformed = ConformSingle(item, value_field, item_path);
      if (!conformed.ok()) return conformed.status();
      out[key] = *std::move(conformed);
    }
    return out;
  }

  if (field.is_repeated()) {
    if (!value.is_array()) return Mismatch(path, "a list", value);
    json out = json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string item_path = absl::StrCat(path, "[", i, "]");
      if (value[i].is_null()) return Mismatch(item_path, "a value", value[i]);
      absl::StatusOr<json> conformed = ConformSingle(value[i], field, item_path);
      if (!conformed.ok()) return conformed.status();
      out.push_back(*std::move(conformed));
    }
    return out;
  }

  return ConformSingle(value, field, path);
}

absl::StatusOr<json> ConformMessage(const json& value, const Descriptor& descriptor,
                                    const std::string& path) {
  if (!value.is_object()) {
    return Mismatch(path.empty() ? "top level" : path,
                    absl::StrCat("a mapping for ", descriptor.full_name()), value);
  }
  json out = json::object();
  for (const auto& [key, item] : value.items()) {
    const std::string item_path = Join(path, key);
    const FieldDescriptor* field = FindField(descriptor, key);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(item_path, ": unknown field (", descriptor.full_name(), " has no field \"",
                       key, "\")"));
    }
    if (item.is_null()) continue;
    if (out.contains(field->json_name())) {
      return absl::InvalidArgumentError(absl::StrCat(
          item_path, ": field given twice (as ", field->name(), " and ", field->json_name(), ")"));
    }
    absl::StatusOr<json> conformed = ConformField(item, *field, item_path);
    if (!conformed.ok()) return conformed.status();
    out[field->json_name()] = *std::move(conformed);
  }
  return out;
}

}  // namespace

absl::StatusOr<json> ConformToMessage(const json& input, const Descriptor& descriptor) {
  return ConformMessage(input, descriptor, "");
}

}  // namespace berth::ctl
