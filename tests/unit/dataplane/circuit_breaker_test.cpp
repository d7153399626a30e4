// The per-endpoint circuit breaker's state machine (CLOSED, OPEN, HALF-OPEN) driven by an injected
// clock, its failure filter, and probe admission under concurrent workers.
#include "dataplane/resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace hermes::dataplane::resilience {
namespace {

using namespace std::chrono_literals;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerTest() {
    s_.failure_threshold = 3;
    s_.success_threshold = 2;
    s_.half_open_max_requests = 1;
    s_.timeout = 10s;
  }

  // Admits and fails `n` requests at `now`.
  void Fail(int n, TimePoint now, FailureKind kind = FailureKind::kConnectFailure) {
    for (int i = 0; i < n; ++i) breaker_.OnFailure(s_, breaker_.TryAdmit(s_, now), kind, now);
  }
  // Opens the breaker at `now`.
  void Open(TimePoint now) {
    Fail(static_cast<int>(s_.failure_threshold), now);
    ASSERT_EQ(breaker_.State(s_, now), BreakerState::kOpen);
  }

  const TimePoint t0_ = TimePoint{} + 1h;
  BreakerSettings s_;
  CircuitBreaker breaker_;
};

TEST_F(CircuitBreakerTest, StartsClosedAndAdmits) {
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
  EXPECT_EQ(breaker_.TryAdmit(s_, t0_), Admission::kAdmitted);
}

TEST_F(CircuitBreakerTest, OpensAfterFailureThresholdConsecutiveFailures) {
  Fail(2, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
  Fail(1, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kOpen);
  EXPECT_EQ(breaker_.times_opened(), 1u);
}

TEST_F(CircuitBreakerTest, SuccessInClosedResetsFailureCount) {
  Fail(2, t0_);
  breaker_.OnSuccess(s_, breaker_.TryAdmit(s_, t0_), t0_);
  Fail(2, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
  Fail(1, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, ReleaseInClosedNeitherCountsNorResets) {
  Fail(2, t0_);
  breaker_.Release(breaker_.TryAdmit(s_, t0_));
  Fail(1, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, OpenRejectsUntilTimeoutHasPassed) {
  Open(t0_);
  EXPECT_EQ(breaker_.TryAdmit(s_, t0_), Admission::kRejected);
  EXPECT_EQ(breaker_.TryAdmit(s_, t0_ + 10s - 1ns), Admission::kRejected);
  EXPECT_EQ(breaker_.State(s_, t0_ + 10s - 1ns), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, OpenReadsHalfOpenOnceTimeoutHasPassed) {
  Open(t0_);
  EXPECT_EQ(breaker_.State(s_, t0_ + 10s), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker_.TryAdmit(s_, t0_ + 10s), Admission::kProbe);
  EXPECT_EQ(breaker_.State(s_, t0_ + 10s), BreakerState::kHalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenAdmitsAtMostConfiguredProbes) {
  s_.half_open_max_requests = 3;
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kProbe);
  EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kRejected);
  EXPECT_EQ(breaker_.probes_in_flight(), 3u);
}

TEST_F(CircuitBreakerTest, ReleaseOfProbeFreesItsSlotAndChangesNothingElse) {
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  const Admission probe = breaker_.TryAdmit(s_, t);
  ASSERT_EQ(probe, Admission::kProbe);
  EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kRejected);
  breaker_.Release(probe);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kProbe);
}

TEST_F(CircuitBreakerTest, ProbeVerdictFreesItsSlot) {
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  breaker_.OnSuccess(s_, breaker_.TryAdmit(s_, t), t);  // 1 of 2 successes
  EXPECT_EQ(breaker_.probes_in_flight(), 0u);
  EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kProbe);
}

TEST_F(CircuitBreakerTest, SuccessThresholdProbeSuccessesClose) {
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  breaker_.OnSuccess(s_, breaker_.TryAdmit(s_, t), t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kHalfOpen);
  breaker_.OnSuccess(s_, breaker_.TryAdmit(s_, t), t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kClosed);
  EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kAdmitted);
}

TEST_F(CircuitBreakerTest, ClosingResetsTheFailureCount) {
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  for (int i = 0; i < 2; ++i) breaker_.OnSuccess(s_, breaker_.TryAdmit(s_, t), t);
  ASSERT_EQ(breaker_.State(s_, t), BreakerState::kClosed);
  Fail(2, t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, ProbeFailureReopensWithNewOpeningTime) {
  Open(t0_);
  const TimePoint t1 = t0_ + 15s;
  breaker_.OnFailure(s_, breaker_.TryAdmit(s_, t1), FailureKind::k5xx, t1);
  EXPECT_EQ(breaker_.State(s_, t1), BreakerState::kOpen);
  EXPECT_EQ(breaker_.times_opened(), 2u);
  EXPECT_EQ(breaker_.TryAdmit(s_, t1 + 10s - 1ns), Admission::kRejected);
  EXPECT_EQ(breaker_.TryAdmit(s_, t1 + 10s), Admission::kProbe);
}

TEST_F(CircuitBreakerTest, ProbeFailureReopensEvenAfterSomeProbeSuccesses) {
  s_.half_open_max_requests = 2;
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  const Admission a = breaker_.TryAdmit(s_, t);
  const Admission b = breaker_.TryAdmit(s_, t);
  breaker_.OnSuccess(s_, a, t);
  breaker_.OnFailure(s_, b, FailureKind::kTimeout, t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, FailureKindsOutsideFailureOnAreIgnored) {
  s_.failure_on = static_cast<uint8_t>(FailureKind::kConnectFailure);
  Fail(5, t0_, FailureKind::k5xx);
  Fail(5, t0_, FailureKind::kTimeout);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, IgnoredFailureKindDoesNotResetTheCount) {
  s_.failure_on = static_cast<uint8_t>(FailureKind::kConnectFailure);
  Fail(2, t0_, FailureKind::kConnectFailure);
  Fail(1, t0_, FailureKind::kReset);
  Fail(1, t0_, FailureKind::kConnectFailure);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, IgnoredFailureKindOfProbeFreesItsSlotWithoutReopening) {
  s_.failure_on = static_cast<uint8_t>(FailureKind::kConnectFailure);
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  breaker_.OnFailure(s_, breaker_.TryAdmit(s_, t), FailureKind::k5xx, t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kProbe);
}

TEST_F(CircuitBreakerTest, DisabledBreakerAdmitsEverythingAndNeverOpens) {
  s_.enabled = false;
  Fail(100, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
  EXPECT_EQ(breaker_.TryAdmit(s_, t0_), Admission::kAdmitted);
  EXPECT_EQ(breaker_.times_opened(), 0u);
  // Nothing was recorded while it was off: enabling it starts from a clean CLOSED.
  s_.enabled = true;
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
  Fail(2, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, DisabledBreakerAdmitsWhileStoredStateIsOpen) {
  Open(t0_);
  s_.enabled = false;
  EXPECT_EQ(breaker_.TryAdmit(s_, t0_), Admission::kAdmitted);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, LateSuccessesOfAdmittedRequestsDoNotCloseHalfOpen) {
  std::vector<Admission> late;
  for (int i = 0; i < 5; ++i) late.push_back(breaker_.TryAdmit(s_, t0_));
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  const Admission probe = breaker_.TryAdmit(s_, t);
  ASSERT_EQ(probe, Admission::kProbe);
  for (Admission a : late) breaker_.OnSuccess(s_, a, t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker_.probes_in_flight(), 1u);
  EXPECT_EQ(breaker_.TryAdmit(s_, t), Admission::kRejected);
  breaker_.OnSuccess(s_, probe, t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kHalfOpen);  // 1 of 2 probe successes
}

TEST_F(CircuitBreakerTest, LateFailureOfAdmittedRequestDoesNotReopenHalfOpen) {
  const Admission late = breaker_.TryAdmit(s_, t0_);
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  ASSERT_EQ(breaker_.TryAdmit(s_, t), Admission::kProbe);
  breaker_.OnFailure(s_, late, FailureKind::kConnectFailure, t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker_.times_opened(), 1u);
}

TEST_F(CircuitBreakerTest, LateFailureWhileOpenKeepsTheOpeningTime) {
  const Admission late = breaker_.TryAdmit(s_, t0_);
  Open(t0_);
  breaker_.OnFailure(s_, late, FailureKind::kConnectFailure, t0_ + 5s);
  EXPECT_EQ(breaker_.State(s_, t0_ + 10s), BreakerState::kHalfOpen);
  EXPECT_EQ(breaker_.times_opened(), 1u);
}

TEST_F(CircuitBreakerTest, ProbeStillOutFromEarlierHalfOpenKeepsItsSlot) {
  s_.half_open_max_requests = 2;
  Open(t0_);
  const TimePoint t1 = t0_ + 10s;
  const Admission slow = breaker_.TryAdmit(s_, t1);
  breaker_.OnFailure(s_, breaker_.TryAdmit(s_, t1), FailureKind::kReset, t1);  // re-opens
  const TimePoint t2 = t1 + 10s;
  EXPECT_EQ(breaker_.TryAdmit(s_, t2), Admission::kProbe);
  EXPECT_EQ(breaker_.TryAdmit(s_, t2), Admission::kRejected);
  breaker_.Release(slow);
  EXPECT_EQ(breaker_.TryAdmit(s_, t2), Admission::kProbe);
}

TEST_F(CircuitBreakerTest, ZeroThresholdsReadAsOne) {
  s_.failure_threshold = 0;
  s_.success_threshold = 0;
  s_.half_open_max_requests = 0;
  Fail(1, t0_);
  ASSERT_EQ(breaker_.State(s_, t0_), BreakerState::kOpen);
  const TimePoint t = t0_ + 10s;
  const Admission probe = breaker_.TryAdmit(s_, t);
  ASSERT_EQ(probe, Admission::kProbe);
  breaker_.OnSuccess(s_, probe, t);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, ConcurrentTryAdmitNeverExceedsProbeLimit) {
  s_.half_open_max_requests = 3;
  s_.success_threshold = 1000000;  // stays HALF-OPEN throughout
  Open(t0_);
  const TimePoint t = t0_ + 10s;
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
  std::atomic<int> probes{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 20000; ++i) {
        const Admission a = breaker_.TryAdmit(s_, t);
        if (a != Admission::kProbe) continue;
        probes.fetch_add(1);
        // Both what the workers hold and what the breaker counts as reserved.
        const int n =
            std::max(in_flight.fetch_add(1) + 1, static_cast<int>(breaker_.probes_in_flight()));
        int seen = most.load();
        while (n > seen && !most.compare_exchange_weak(seen, n)) {
        }
        std::this_thread::yield();  // hold the slot a while, so that others contend for it
        in_flight.fetch_sub(1);
        if ((i + w) % 2 == 0) {
          breaker_.Release(a);
        } else {
          breaker_.OnSuccess(s_, a, t);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_GT(probes.load(), 0);
  EXPECT_EQ(breaker_.probes_in_flight(), 0u);
  EXPECT_EQ(breaker_.State(s_, t), BreakerState::kHalfOpen);
}

}  // namespace
}  // namespace hermes::dataplane::resilience

namespace hermes::dataplane::resilience {
namespace {

TEST_F(CircuitBreakerTest, AHealthCheckThatPassesCutsTheOpenWaitShort) {
  Open(t0_);
  breaker_.CutOpenWait(s_, t0_ + 1s);
  EXPECT_EQ(breaker_.State(s_, t0_ + 1s), BreakerState::kHalfOpen) << "9 s before its timeout";
  Admission probe = breaker_.TryAdmit(s_, t0_ + 1s);
  EXPECT_EQ(probe, Admission::kProbe);
  EXPECT_EQ(breaker_.TryAdmit(s_, t0_ + 1s), Admission::kRejected) << "one probe at a time";
  breaker_.OnSuccess(s_, probe, t0_ + 1s);
  breaker_.OnSuccess(s_, breaker_.TryAdmit(s_, t0_ + 1s), t0_ + 1s);
  EXPECT_EQ(breaker_.State(s_, t0_ + 1s), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, CuttingTheWaitLeavesAClosedBreakerAlone) {
  Fail(2, t0_);
  breaker_.CutOpenWait(s_, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kClosed);
  Fail(1, t0_);
  EXPECT_EQ(breaker_.State(s_, t0_), BreakerState::kOpen) << "the failure count was kept";
}

}  // namespace
}  // namespace hermes::dataplane::resilience
