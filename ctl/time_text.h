// Times as people read them: RFC 3339 in UTC, and the age relative to now ("3m ago").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hermes::ctl {

// Whether RFC 3339 can write the time (years 0000 to 9999); the control plane may send anything.
bool InRfc3339Range(int64_t unix_ms);

// "2024-05-01T12:00:00Z"; "-" for 0 (never) and for a time out of range.
std::string FormatRfc3339(int64_t unix_ms);
// "2024-05-01T12:00:00.250Z" (the -o json form, always with milliseconds); "-" out of range.
std::string FormatRfc3339Millis(int64_t unix_ms);

// "12s ago", "3m ago", "5h ago", "2d ago"; "-" for 0; a time after `now` (clock skew) is "0s ago".
std::string FormatAge(int64_t unix_ms, std::chrono::system_clock::time_point now);

// Whole seconds from `unix_ms` to `now`; 0 when it is later (clock skew). Any int64 the control
// plane sends is fine: the difference never overflows.
uint64_t SecondsSince(int64_t unix_ms, std::chrono::system_clock::time_point now);

// A span in milliseconds as a Go-style duration ("2m", "1h5s"), or "123ms" when it is too long
// (or too negative) for FormatDuration's nanoseconds.
std::string FormatMillis(int64_t ms);

}  // namespace hermes::ctl
