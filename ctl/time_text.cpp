#include "ctl/time_text.h"

#include <cstdio>
#include <limits>

#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

std::string Format(int64_t unix_ms, bool millis) {
  const sys_time<milliseconds> t{milliseconds(unix_ms)};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  std::string out = buf;
  if (millis) {
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(hms.subseconds().count()));
    out += buf;
  }
  return out + "Z";
}

}  // namespace

bool InRfc3339Range(int64_t unix_ms) {
  constexpr int64_t kYear0 = -62'167'219'200'000;          // 0000-01-01T00:00:00Z
  constexpr int64_t kAfterYear9999 = 253'402'300'800'000;  // 10000-01-01T00:00:00Z
  return unix_ms >= kYear0 && unix_ms < kAfterYear9999;
}

std::string FormatRfc3339(int64_t unix_ms) {
  return unix_ms == 0 || !InRfc3339Range(unix_ms) ? "-" : Format(unix_ms, false);
}

std::string FormatRfc3339Millis(int64_t unix_ms) {
  return InRfc3339Range(unix_ms) ? Format(unix_ms, true) : "-";
}

uint64_t SecondsSince(int64_t unix_ms, system_clock::time_point now) {
  const int64_t now_ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  if (now_ms <= unix_ms) return 0;
  // Two's complement: the unsigned difference is exact for any two int64 with now_ms > unix_ms.
  return (static_cast<uint64_t>(now_ms) - static_cast<uint64_t>(unix_ms)) / 1000;
}

std::string FormatMillis(int64_t ms) {
  constexpr int64_t kMaxMillis = std::numeric_limits<int64_t>::max() / 1'000'000;
  if (ms > kMaxMillis || ms < -kMaxMillis) return std::to_string(ms) + "ms";
  return FormatDuration(milliseconds(ms));
}

std::string FormatAge(int64_t unix_ms, system_clock::time_point now) {
  if (unix_ms == 0) return "-";
  const uint64_t s = SecondsSince(unix_ms, now);
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 60 * 60) return std::to_string(s / 60) + "m ago";
  if (s < 48 * 60 * 60) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

}  // namespace hermes::ctl
