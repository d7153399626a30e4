// Go-style duration text (time.ParseDuration / Duration.String) <-> std::chrono and proto.
#include "hermes/common/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace hermes {
namespace {

using Nanos = std::chrono::nanoseconds;
__extension__ typedef __int128 Int128;  // fraction * unit needs up to 104 bits

struct Unit {
  std::string_view name;
  int64_t nanos;
};

// Longest names first so "ms" is not read as "m" followed by garbage. Both micro signs are
// accepted, as in Go: U+00B5 (micro sign) and U+03BC (Greek small letter mu).
constexpr std::array<Unit, 8> kUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"\u00b5s", 1'000},
    {"\u03bcs", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

const Unit* MatchUnit(std::string_view rest) {
  const Unit* best = nullptr;
  for (const Unit& unit : kUnits) {
    if (rest.starts_with(unit.name) && (best == nullptr || unit.name.size() > best->name.size())) {
      best = &unit;
    }
  }
  return best;
}

// Reads one "<number><unit>" component from the front of `text` and adds it to `total`.
// Fraction digits past nanosecond precision are dropped, as Go does.
bool ReadComponent(std::string_view& text, int64_t& total) {
  int64_t whole = 0;
  size_t i = 0;
  bool any_digit = false;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    any_digit = true;
    if (__builtin_mul_overflow(whole, 10, &whole) ||
        __builtin_add_overflow(whole, text[i] - '0', &whole)) {
      return false;
    }
  }
  int64_t fraction = 0;
  int64_t scale = 1;
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && IsDigit(text[i]); ++i) {
      any_digit = true;
      if (scale < 1'000'000'000'000'000'000) {
        fraction = fraction * 10 + (text[i] - '0');
        scale *= 10;
      }
    }
  }
  if (!any_digit) return false;
  const Unit* unit = MatchUnit(text.substr(i));
  if (unit == nullptr) return false;
  text.remove_prefix(i + unit->name.size());

  int64_t nanos = 0;
  if (__builtin_mul_overflow(whole, unit->nanos, &nanos)) return false;
  const auto fraction_nanos =
      static_cast<int64_t>(static_cast<Int128>(fraction) * unit->nanos / scale);
  if (__builtin_add_overflow(nanos, fraction_nanos, &nanos)) return false;
  return !__builtin_add_overflow(total, nanos, &total);
}

// "1.500" -> "1.5", "2.000" -> "2": `value / scale` with the fraction's trailing zeros removed.
std::string FormatDecimal(int64_t value, int64_t scale) {
  std::string text = std::to_string(value / scale);
  int64_t fraction = value % scale;
  if (fraction == 0) return text;
  std::string digits;
  for (int64_t s = scale / 10; s > 0; s /= 10) {
    digits.push_back(static_cast<char>('0' + fraction / s));
    fraction %= s;
  }
  while (digits.back() == '0') digits.pop_back();
  return text + "." + digits;
}

}  // namespace

std::optional<Nanos> ParseDuration(std::string_view text) {
  if (text == "0") return Nanos{0};
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  while (!text.empty()) {
    if (!ReadComponent(text, total)) return std::nullopt;
  }
  return Nanos{total};
}

// Like Go's Duration.String() but without zero hour and minute components ("1h", not "1h0m0s"),
// and with ASCII "us" so that the text stays plain ASCII in config files and logs.
std::string FormatDuration(Nanos d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign;
  if (n < 0) {
    sign = "-";
    if (n == std::numeric_limits<int64_t>::min()) {
      // |min| has no int64 value; one nanosecond less keeps every digit but the last exact.
      return "-" + FormatDuration(Nanos{std::numeric_limits<int64_t>::max()});
    }
    n = -n;
  }
  constexpr int64_t kSecond = 1'000'000'000;
  if (n < 1'000) return sign + std::to_string(n) + "ns";
  if (n < 1'000'000) return sign + FormatDecimal(n, 1'000) + "us";
  if (n < kSecond) return sign + FormatDecimal(n, 1'000'000) + "ms";

  std::string text = sign;
  const int64_t hours = n / (3600 * kSecond);
  const int64_t minutes = n / (60 * kSecond) % 60;
  const int64_t seconds = n % (60 * kSecond);
  if (hours > 0) text += std::to_string(hours) + "h";
  if (minutes > 0) text += std::to_string(minutes) + "m";
  if (seconds > 0) text += FormatDecimal(seconds, kSecond) + "s";
  return text;
}

Nanos ToChrono(const google::protobuf::Duration& d) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t nanos = 0;
  if (__builtin_mul_overflow(d.seconds(), int64_t{1'000'000'000}, &nanos) ||
      __builtin_add_overflow(nanos, int64_t{d.nanos()}, &nanos)) {
    return Nanos{d.seconds() < 0 ? kMin : kMax};
  }
  return Nanos{nanos};
}

google::protobuf::Duration ToProto(Nanos d) {
  google::protobuf::Duration proto;
  // Both parts take the sign of the whole, as google.protobuf.Duration requires.
  proto.set_seconds(d.count() / 1'000'000'000);
  proto.set_nanos(static_cast<int32_t>(d.count() % 1'000'000'000));
  return proto;
}

}  // namespace hermes
