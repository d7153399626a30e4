// The minimum request body rate (listener min_request_body_rate): a body dribbled a byte at a time
// under the idle timeout must still end, like nginx's and Envoy's per-request body limits.
#pragma once

#include <chrono>
#include <cstdint>

namespace hermes::dataplane::http {

// How long a body may go before its average rate is held against it: a client's first seconds
// (slow start, a 100-continue round trip) are not a slow body.
inline constexpr std::chrono::seconds kBodyRateAllowance{10};

// When a body that began at `began` with `received` bytes so far falls below `rate` bytes per
// second on average (after the allowance), if no more bytes come. `rate` > 0.
template <class TimePoint>
TimePoint BodyRateDeadline(TimePoint began, uint64_t received, uint64_t rate) {
  using Duration = typename TimePoint::duration;
  auto earned = std::chrono::duration<double>(static_cast<double>(received) / static_cast<double>(rate));
  // Past ~a century of credit there is nothing left to check.
  if (earned > std::chrono::hours(24 * 365 * 100)) return TimePoint::max();
  return began + kBodyRateAllowance + std::chrono::duration_cast<Duration>(earned);
}

}  // namespace hermes::dataplane::http
