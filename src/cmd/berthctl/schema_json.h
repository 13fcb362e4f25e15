// Shapes a loosely typed JSON tree into the proto3 JSON form of one message type.
//
// Config files come in JSON or YAML, with snake_case proto names or lowerCamel JSON names, and
// YAML gives every plain scalar as text. ConformToMessage walks the tree alongside the message's
// descriptor and turns each value into what the proto3 JSON parser expects for its field. For
// example, text "3" for a uint32 becomes 3, "true" for a bool becomes true, a number for a string
// field becomes text, and plain text for a bytes field is base64-encoded. A value that does not
// fit is reported with the path of its field.
#pragma once

#include <google/protobuf/descriptor.h>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace berth::ctl {

// Returns `input` rewritten for `descriptor`: keys become the fields' JSON names, values take
// their field's JSON type, null values are dropped. A key that names no field, a field given
// twice (under both of its names), or a value that cannot become its field's type is
// InvalidArgument whose message starts with the field path, e.g.
// "metadata.attempt: expected an unsigned 32-bit integer, got \"x\"".
absl::StatusOr<nlohmann::json> ConformToMessage(const nlohmann::json& input,
                                                const google::protobuf::Descriptor& descriptor);

}  // namespace berth::ctl
