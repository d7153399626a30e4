// Times as people read them: RFC 3339 in UTC, and the age relative to now ("3m ago").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hermes::ctl {

// "2024-05-01T12:00:00Z"; "-" for 0 (never).
std::string FormatRfc3339(int64_t unix_ms);
// "2024-05-01T12:00:00.250Z" (the -o json form, always with milliseconds).
std::string FormatRfc3339Millis(int64_t unix_ms);

// "12s ago", "3m ago", "5h ago", "2d ago"; "-" for 0; a time after `now` (clock skew) is "0s ago".
std::string FormatAge(int64_t unix_ms, std::chrono::system_clock::time_point now);

}  // namespace hermes::ctl
