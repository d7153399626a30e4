#include "ctl/time_text.h"

#include <cstdio>

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

std::string FormatRfc3339(int64_t unix_ms) { return unix_ms == 0 ? "-" : Format(unix_ms, false); }

std::string FormatRfc3339Millis(int64_t unix_ms) { return Format(unix_ms, true); }

std::string FormatAge(int64_t unix_ms, system_clock::time_point now) {
  if (unix_ms == 0) return "-";
  const int64_t now_ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  const int64_t s = now_ms > unix_ms ? (now_ms - unix_ms) / 1000 : 0;
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 60 * 60) return std::to_string(s / 60) + "m ago";
  if (s < 48 * 60 * 60) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

}  // namespace hermes::ctl
