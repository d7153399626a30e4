// The per-endpoint circuit breaker: one packed atomic word changed by CAS, no lock.
#include "dataplane/resilience/circuit_breaker.h"

#include <algorithm>

namespace hermes::dataplane::resilience {
namespace {

// Layout of CircuitBreaker::word_.
constexpr uint64_t kFieldBits = 20;
constexpr uint64_t kFieldMax = (uint64_t{1} << kFieldBits) - 1;
constexpr int kFailuresShift = 2;
constexpr int kSuccessesShift = kFailuresShift + kFieldBits;
constexpr int kInFlightShift = kSuccessesShift + kFieldBits;

struct Word {
  BreakerState state;
  uint64_t failures;   // consecutive counted failures while CLOSED
  uint64_t successes;  // probe successes while HALF-OPEN
  uint64_t in_flight;  // probe admissions without a verdict yet

  static Word Unpack(uint64_t w) {
    return {static_cast<BreakerState>(w & 3), (w >> kFailuresShift) & kFieldMax,
            (w >> kSuccessesShift) & kFieldMax, (w >> kInFlightShift) & kFieldMax};
  }
  uint64_t Pack() const {
    return static_cast<uint64_t>(state) | (failures << kFailuresShift) |
           (successes << kSuccessesShift) | (in_flight << kInFlightShift);
  }
};

// A threshold of 0 reads as 1 (0 would mean "never close" or "never probe", a stuck breaker);
// thresholds beyond a field's range saturate.
uint64_t Threshold(uint32_t v) { return std::clamp<uint64_t>(v, 1, kFieldMax); }

int64_t Ns(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool Counted(const BreakerSettings& s, FailureKind kind) {
  return (s.failure_on & static_cast<uint8_t>(kind)) != 0;
}

}  // namespace

Admission CircuitBreaker::TryAdmit(const BreakerSettings& s, TimePoint now) {
  if (!s.enabled) return Admission::kAdmitted;
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    Word next = Word::Unpack(w);
    switch (next.state) {
      case BreakerState::kClosed:
        return Admission::kAdmitted;
      case BreakerState::kOpen:
        if (Ns(now) - opened_at_ns_.load(std::memory_order_relaxed) < s.timeout.count()) {
          return Admission::kRejected;
        }
        // The timeout is up: this admission moves the breaker to HALF-OPEN as its first probe.
        next.state = BreakerState::kHalfOpen;
        next.failures = 0;
        next.successes = 0;
        break;
      case BreakerState::kHalfOpen:
        break;
    }
    // Probes still out from an earlier HALF-OPEN keep their slots until their verdict returns.
    if (next.in_flight >= Threshold(s.half_open_max_requests)) return Admission::kRejected;
    ++next.in_flight;
    if (word_.compare_exchange_weak(w, next.Pack(), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return Admission::kProbe;
    }
  }
}

void CircuitBreaker::OnSuccess(const BreakerSettings& s, Admission a, TimePoint /*now*/) {
  if (!s.enabled || a == Admission::kRejected) {
    Release(a);
    return;
  }
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    Word next = Word::Unpack(w);
    if (a == Admission::kProbe && next.in_flight > 0) --next.in_flight;
    switch (next.state) {
      case BreakerState::kClosed:
        next.failures = 0;
        break;
      case BreakerState::kOpen:
        break;  // a late verdict: the breaker opened after this request was let through
      case BreakerState::kHalfOpen:
        // Only probes decide; a kAdmitted verdict here is a late one from before the opening.
        if (a == Admission::kProbe && ++next.successes >= Threshold(s.success_threshold)) {
          next.state = BreakerState::kClosed;
          next.failures = 0;
          next.successes = 0;
        }
        break;
    }
    const uint64_t packed = next.Pack();
    if (packed == w) return;
    if (word_.compare_exchange_weak(w, packed, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return;
    }
  }
}

void CircuitBreaker::OnFailure(const BreakerSettings& s, Admission a, FailureKind kind,
                               TimePoint now) {
  // An uncounted kind is no verdict at all: like Release, it only frees a probe slot.
  if (!s.enabled || a == Admission::kRejected || !Counted(s, kind)) {
    Release(a);
    return;
  }
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    Word next = Word::Unpack(w);
    if (a == Admission::kProbe && next.in_flight > 0) --next.in_flight;
    bool open = false;
    switch (next.state) {
      case BreakerState::kClosed:
        next.failures = std::min(next.failures + 1, kFieldMax);
        open = next.failures >= Threshold(s.failure_threshold);
        break;
      case BreakerState::kOpen:
        break;  // late: already open, and the opening time stays
      case BreakerState::kHalfOpen:
        open = a == Admission::kProbe;
        break;
    }
    if (open) {
      next.state = BreakerState::kOpen;
      next.failures = 0;
      next.successes = 0;
      // Before the CAS that publishes OPEN (see the header). A losing thread may overwrite it
      // with its own `now`, which is as good a time as the winner's.
      opened_at_ns_.store(Ns(now), std::memory_order_relaxed);
    }
    const uint64_t packed = next.Pack();
    if (packed == w) return;
    if (word_.compare_exchange_weak(w, packed, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      if (open) times_opened_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

void CircuitBreaker::Release(Admission a) {
  if (a != Admission::kProbe) return;
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    Word next = Word::Unpack(w);
    if (next.in_flight == 0) return;
    --next.in_flight;
    if (word_.compare_exchange_weak(w, next.Pack(), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return;
    }
  }
}

void CircuitBreaker::CutOpenWait(const BreakerSettings& s, TimePoint now) {
  if (Word::Unpack(word_.load(std::memory_order_acquire)).state != BreakerState::kOpen) return;
  opened_at_ns_.store(Ns(now) - s.timeout.count(), std::memory_order_relaxed);
}

BreakerState CircuitBreaker::State(const BreakerSettings& s, TimePoint now) const {
  if (!s.enabled) return BreakerState::kClosed;
  const BreakerState state = Word::Unpack(word_.load(std::memory_order_acquire)).state;
  if (state == BreakerState::kOpen &&
      Ns(now) - opened_at_ns_.load(std::memory_order_relaxed) >= s.timeout.count()) {
    return BreakerState::kHalfOpen;
  }
  return state;
}

uint32_t CircuitBreaker::probes_in_flight() const {
  return static_cast<uint32_t>(Word::Unpack(word_.load(std::memory_order_acquire)).in_flight);
}

}  // namespace hermes::dataplane::resilience
