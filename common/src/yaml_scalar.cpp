// Scalar text -> typed values for the YAML reader; every failure says what was expected.
#include "yaml_scalar.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "hermes/common/ascii.h"
#include "hermes/common/duration.h"

namespace hermes::config {
namespace {

__extension__ typedef __int128 Int128;  // holds every int64 and uint64 value, and their negations

enum class NumberKind { kInteger, kFraction, kTooLarge, kNotANumber };

struct Number {
  NumberKind kind = NumberKind::kNotANumber;
  Int128 integer = 0;
};

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<double> ReadDouble(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

Number ReadNumber(std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (AllDigits(digits)) {
    uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    if (ec != std::errc{}) return {NumberKind::kTooLarge};
    return {NumberKind::kInteger, negative ? -Int128{magnitude} : Int128{magnitude}};
  }
  std::optional<double> value = ReadDouble(text);
  if (!value) return {NumberKind::kNotANumber};
  if (*value != std::floor(*value)) return {NumberKind::kFraction};
  if (std::fabs(*value) >= 0x1p64) return {NumberKind::kTooLarge};
  return {NumberKind::kInteger, static_cast<Int128>(*value)};
}

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

template <class T>
ScalarValue<T> Error(std::string message) {
  return {std::nullopt, std::move(message)};
}

template <class T>
ScalarValue<T> ReadInteger(std::string_view text, Int128 min, Int128 max, std::string_view what) {
  const std::string range = "(expected " + std::to_string(static_cast<T>(min)) + ".." +
                            std::to_string(static_cast<T>(max)) + ")";
  const Number number = ReadNumber(text);
  switch (number.kind) {
    case NumberKind::kNotANumber:
      return Error<T>("expected " + std::string(what) + ", got " + Quoted(text));
    case NumberKind::kFraction:
      return Error<T>("expected " + std::string(what) + ", got the fraction " + std::string(text));
    case NumberKind::kTooLarge:
      return Error<T>(std::string(text) + " is out of range " + range);
    case NumberKind::kInteger:
      break;
  }
  if (number.integer < min || number.integer > max) {
    return Error<T>(std::string(text) + " is out of range " + range);
  }
  return {static_cast<T>(number.integer), ""};
}

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '-') c = '_';
  }
  return upper;
}

bool IsUnspecified(const google::protobuf::EnumValueDescriptor& value) {
  return value.name().ends_with("UNSPECIFIED");
}

}  // namespace

ScalarValue<int64_t> ParseSigned(std::string_view text, int64_t min, int64_t max) {
  return ReadInteger<int64_t>(text, min, max, "an integer");
}

ScalarValue<uint64_t> ParseUnsigned(std::string_view text, uint64_t max) {
  return ReadInteger<uint64_t>(text, 0, max, "an unsigned integer");
}

ScalarValue<double> ParseFloat(std::string_view text) {
  std::optional<double> value = ReadDouble(text);
  if (!value) return Error<double>("expected a number, got " + Quoted(text));
  return {*value, ""};
}

ScalarValue<bool> ParseBool(std::string_view text) {
  const std::string lower = AsciiLower(text);
  if (lower == "true") return {true, ""};
  if (lower == "false") return {false, ""};
  return Error<bool>("expected true or false, got " + Quoted(text));
}

ScalarValue<int> ParseEnum(std::string_view text, const google::protobuf::EnumDescriptor& type) {
  const google::protobuf::EnumValueDescriptor* value = type.FindValueByName(Upper(text));
  if (value != nullptr && !IsUnspecified(*value)) return {value->number(), ""};
  std::string accepted;
  for (int i = 0; i < type.value_count(); ++i) {
    if (IsUnspecified(*type.value(i))) continue;
    accepted += (accepted.empty() ? "" : ", ") + AsciiLower(type.value(i)->name());
  }
  return Error<int>("unknown value " + Quoted(text) + " (expected one of: " + accepted + ")");
}

ScalarValue<std::chrono::nanoseconds> ParseDurationText(std::string_view text) {
  using Nanos = std::chrono::nanoseconds;
  if (std::optional<Nanos> duration = ParseDuration(text)) return {*duration, ""};
  if (!text.empty() && text.front() == '-') {
    return Error<Nanos>(Quoted(text) + " is negative (durations must be >= 0)");
  }
  if (ReadNumber(text).kind != NumberKind::kNotANumber) {
    return Error<Nanos>(std::string(text) + " has no unit; add one, e.g. \"" + std::string(text) +
                        "s\" or \"" + std::string(text) + "ms\"");
  }
  return Error<Nanos>(Quoted(text) +
                      " is not a duration (expected a number and a unit ns, us, ms, s, m or h, "
                      "e.g. \"500ms\", \"10s\", \"1m30s\")");
}

}  // namespace hermes::config
