// Conversion of one YAML scalar's text into a typed proto field value, with the reason on failure.
#pragma once

#include <google/protobuf/descriptor.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hermes::config {

template <class T>
struct ScalarValue {
  std::optional<T> value;
  std::string error;  // set when value is empty: what is wrong and what is expected
};

// Integers as written in YAML: 42, +42, -1, and integral floats such as 5e9; checked against
// [min, max] so that a uint32 field rejects -1 and 5e9 instead of wrapping.
ScalarValue<int64_t> ParseSigned(std::string_view text, int64_t min, int64_t max);
ScalarValue<uint64_t> ParseUnsigned(std::string_view text, uint64_t max);
ScalarValue<double> ParseFloat(std::string_view text);

// true / false in any case.
ScalarValue<bool> ParseBool(std::string_view text);

// An enum value by name, case-insensitive, '-' read as '_': "round-robin" -> ROUND_ROBIN.
// *_UNSPECIFIED values are not accepted: leaving the key out is how to ask for the default.
ScalarValue<int> ParseEnum(std::string_view text, const google::protobuf::EnumDescriptor& type);

// A duration with a unit ("10s"); a bare number other than 0 is an error asking for a unit.
ScalarValue<std::chrono::nanoseconds> ParseDurationText(std::string_view text);

}  // namespace hermes::config
