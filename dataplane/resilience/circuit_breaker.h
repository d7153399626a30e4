// The per-endpoint circuit breaker (the original Hermes state machine, done right), shared by every
// worker through atomics: no lock on the request path. Time is passed in, so tests drive it with
// an injected clock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace hermes::dataplane::resilience {

using TimePoint = std::chrono::steady_clock::time_point;

enum class BreakerState : uint8_t { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

// What went wrong with one attempt; a breaker counts only the kinds in its failure_on mask.
enum class FailureKind : uint8_t {
  kConnectFailure = 1,
  kReset = 2,    // connection failed after the request was sent, before a full response head
  kTimeout = 4,  // no response head in time
  k5xx = 8,
};

struct BreakerSettings {
  bool enabled = true;
  uint32_t failure_threshold = 5;
  uint32_t success_threshold = 3;
  uint32_t half_open_max_requests = 1;
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);
  uint8_t failure_on = 0xf;  // FailureKind bits
};

// How a request was let through; handed back with its verdict.
enum class Admission : uint8_t { kRejected, kAdmitted, kProbe };

class CircuitBreaker {
 public:
  // CLOSED: admitted. OPEN: rejected until `timeout` has passed since it opened, then HALF-OPEN.
  // HALF-OPEN: admitted as a probe while fewer than half_open_max_requests probes are in flight.
  // Disabled: always admitted.
  Admission TryAdmit(const BreakerSettings& s, TimePoint now);
  // The verdict of an admitted request. A probe's verdict frees its slot; success_threshold
  // successes close a HALF-OPEN breaker, any counted failure re-opens it. In CLOSED,
  // failure_threshold consecutive counted failures open it and a success resets the count.
  void OnSuccess(const BreakerSettings& s, Admission a, TimePoint now);
  void OnFailure(const BreakerSettings& s, Admission a, FailureKind kind, TimePoint now);
  // An admitted request that ended with no verdict on the endpoint (client gone, 4xx...): frees
  // a probe slot, changes nothing else.
  void Release(Admission a);
  // An active health check found the endpoint healthy again: an OPEN breaker's wait is cut short,
  // so it reads HALF-OPEN now and its probes decide (the checker's verdict is not traffic).
  void CutOpenWait(const BreakerSettings& s, TimePoint now);
  // OPEN whose timeout has passed reads as HALF-OPEN.
  BreakerState State(const BreakerSettings& s, TimePoint now) const;
  uint64_t times_opened() const { return times_opened_.load(std::memory_order_relaxed); }
  // Probe admissions whose verdict has not come back yet (kept across state changes).
  uint32_t probes_in_flight() const;

 private:
  // word_ packs the stored state (2 bits) and three saturating 20-bit counts: consecutive counted
  // failures (CLOSED), probe successes (HALF-OPEN), probes in flight. They change together in one
  // CAS, so concurrent admissions cannot overshoot half_open_max_requests. opened_at_ns_ is
  // written before the CAS that stores OPEN, so a reader that sees OPEN sees its opening time.
  std::atomic<uint64_t> word_{0};
  std::atomic<int64_t> opened_at_ns_{0};
  std::atomic<uint64_t> times_opened_{0};
};

}  // namespace hermes::dataplane::resilience
