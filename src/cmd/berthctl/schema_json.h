// Shapes a loosely typed JSON tree into the proto3 JSON form of one message type.
//
// Config files come in JSON or YAML, with snake_case proto names or lowerCamel JSON names, and
// YAML gives every plain scalar as text. Walking the tree alongside the message's descriptor
// turns each value into what the proto3 JSON parser expects for its field (text "3" for a uint32
// becomes 3, a bool written as "true" becomes true, a number given for a string field becomes
// text, plain text for a bytes field is base64-encoded), and names the field of any value that
// does not fit.
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
