// Outlier detection (Envoy's passive health): each consecutive-failure detector, the ejection time
// growing with past ejections, the cluster's ejection cap and the return of ejected endpoints.
#include "dataplane/resilience/outlier_detector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace hermes::dataplane::resilience {
namespace {

using namespace std::chrono_literals;

class OutlierDetectorTest : public ::testing::Test {
 protected:
  OutlierDetectorTest() {
    s_.enabled = true;
    s_.consecutive_5xx = 3;
    s_.consecutive_gateway_failure = 0;
    s_.consecutive_local_origin_failure = 0;
    s_.base_ejection_time = 10s;
    s_.max_ejection_time = 300s;
    s_.max_ejection_percent = 100;
  }

  // Records `n` results of `r` on `d`; true if one of them ejected it.
  bool Record(OutlierDetector& d, AttemptResult r, int n, TimePoint now) {
    bool ejected = false;
    for (int i = 0; i < n; ++i) ejected = d.OnResult(s_, r, cluster_, kClusterSize, now) || ejected;
    return ejected;
  }
  bool Record(AttemptResult r, int n, TimePoint now) { return Record(detector_, r, n, now); }

  // When the endpoint, ejected at `at`, comes back: the first sweep that returns it, searched in
  // steps of one second.
  std::chrono::seconds EjectedFor(TimePoint at) {
    for (auto d = 0s; d <= 1000s; d += 1s) {
      if (detector_.Sweep(cluster_, at + d)) return d;
    }
    ADD_FAILURE() << "never returned";
    return 0s;
  }

  static constexpr size_t kClusterSize = 10;
  const TimePoint t0_ = TimePoint{} + 1h;
  OutlierSettings s_;
  OutlierClusterState cluster_;
  OutlierDetector detector_;
};

TEST_F(OutlierDetectorTest, Consecutive5xxEject) {
  EXPECT_FALSE(Record(AttemptResult::k5xx, 2, t0_));
  EXPECT_FALSE(detector_.ejected());
  const uint64_t epoch = cluster_.epoch.load();
  EXPECT_TRUE(Record(AttemptResult::k5xx, 1, t0_));
  EXPECT_TRUE(detector_.ejected());
  EXPECT_EQ(detector_.times_ejected(), 1u);
  EXPECT_EQ(cluster_.ejected.load(), 1u);
  EXPECT_GT(cluster_.epoch.load(), epoch);
}

TEST_F(OutlierDetectorTest, GatewayFailuresCountAs5xx) {
  Record(AttemptResult::k5xx, 1, t0_);
  Record(AttemptResult::kGatewayFailure, 1, t0_);
  EXPECT_TRUE(Record(AttemptResult::k5xx, 1, t0_));
}

TEST_F(OutlierDetectorTest, SuccessResetsThe5xxRun) {
  Record(AttemptResult::k5xx, 2, t0_);
  Record(AttemptResult::kSuccess, 1, t0_);
  EXPECT_FALSE(Record(AttemptResult::k5xx, 2, t0_));
  EXPECT_FALSE(detector_.ejected());
}

TEST_F(OutlierDetectorTest, ConsecutiveGatewayFailuresEject) {
  s_.consecutive_5xx = 0;
  s_.consecutive_gateway_failure = 3;
  EXPECT_FALSE(Record(AttemptResult::kGatewayFailure, 2, t0_));
  EXPECT_TRUE(Record(AttemptResult::kGatewayFailure, 1, t0_));
}

TEST_F(OutlierDetectorTest, Other5xxBreaksTheGatewayFailureRun) {
  s_.consecutive_5xx = 0;
  s_.consecutive_gateway_failure = 3;
  Record(AttemptResult::kGatewayFailure, 2, t0_);
  Record(AttemptResult::k5xx, 1, t0_);
  EXPECT_FALSE(Record(AttemptResult::kGatewayFailure, 2, t0_));
  EXPECT_FALSE(detector_.ejected());
}

TEST_F(OutlierDetectorTest, ConsecutiveLocalOriginFailuresEject) {
  s_.consecutive_5xx = 0;
  s_.consecutive_local_origin_failure = 3;
  EXPECT_FALSE(Record(AttemptResult::kLocalOriginFailure, 2, t0_));
  EXPECT_TRUE(Record(AttemptResult::kLocalOriginFailure, 1, t0_));
}

TEST_F(OutlierDetectorTest, LocalOriginFailuresDoNotCountAs5xx) {
  s_.consecutive_local_origin_failure = 0;
  EXPECT_FALSE(Record(AttemptResult::kLocalOriginFailure, 10, t0_));
  EXPECT_FALSE(detector_.ejected());
}

TEST_F(OutlierDetectorTest, LocalOriginFailureDoesNotBreakThe5xxRun) {
  Record(AttemptResult::k5xx, 2, t0_);
  Record(AttemptResult::kLocalOriginFailure, 1, t0_);
  EXPECT_TRUE(Record(AttemptResult::k5xx, 1, t0_));
}

TEST_F(OutlierDetectorTest, ErrorResponseBreaksTheLocalOriginRun) {
  s_.consecutive_5xx = 0;
  s_.consecutive_local_origin_failure = 3;
  Record(AttemptResult::kLocalOriginFailure, 2, t0_);
  Record(AttemptResult::k5xx, 1, t0_);
  EXPECT_FALSE(Record(AttemptResult::kLocalOriginFailure, 2, t0_));
  Record(AttemptResult::kGatewayFailure, 1, t0_);
  EXPECT_FALSE(Record(AttemptResult::kLocalOriginFailure, 2, t0_));
  EXPECT_FALSE(detector_.ejected());
}

TEST_F(OutlierDetectorTest, ZeroThresholdTurnsThatDetectorOff) {
  s_.consecutive_5xx = 0;
  EXPECT_FALSE(Record(AttemptResult::k5xx, 50, t0_));
  EXPECT_FALSE(Record(AttemptResult::kGatewayFailure, 50, t0_));
  EXPECT_FALSE(detector_.ejected());
}

TEST_F(OutlierDetectorTest, DisabledDetectorNeverEjects) {
  s_.enabled = false;
  EXPECT_FALSE(Record(AttemptResult::k5xx, 50, t0_));
  EXPECT_FALSE(detector_.ejected());
  EXPECT_EQ(cluster_.ejected.load(), 0u);
}

TEST_F(OutlierDetectorTest, EjectedEndpointIsNotEjectedAgain) {
  ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t0_));
  EXPECT_FALSE(Record(AttemptResult::k5xx, 10, t0_));
  EXPECT_EQ(detector_.times_ejected(), 1u);
  EXPECT_EQ(cluster_.ejected.load(), 1u);
}

TEST_F(OutlierDetectorTest, SweepReturnsEndpointWhenEjectionTimeIsUp) {
  ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t0_));
  EXPECT_FALSE(detector_.Sweep(cluster_, t0_ + 10s - 1ns));
  EXPECT_TRUE(detector_.ejected());
  const uint64_t epoch = cluster_.epoch.load();
  EXPECT_TRUE(detector_.Sweep(cluster_, t0_ + 10s));
  EXPECT_FALSE(detector_.ejected());
  EXPECT_EQ(cluster_.ejected.load(), 0u);
  EXPECT_GT(cluster_.epoch.load(), epoch);
  EXPECT_FALSE(detector_.Sweep(cluster_, t0_ + 11s));
}

TEST_F(OutlierDetectorTest, SweepOfHealthyEndpointReturnsFalse) {
  EXPECT_FALSE(detector_.Sweep(cluster_, t0_));
  EXPECT_EQ(cluster_.ejected.load(), 0u);
}

TEST_F(OutlierDetectorTest, ReturnedEndpointStartsWithCleanCounters) {
  ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t0_));
  Record(AttemptResult::k5xx, 2, t0_);  // late results while ejected
  ASSERT_TRUE(detector_.Sweep(cluster_, t0_ + 10s));
  EXPECT_FALSE(Record(AttemptResult::k5xx, 2, t0_ + 10s));
  EXPECT_TRUE(Record(AttemptResult::k5xx, 1, t0_ + 10s));
}

TEST_F(OutlierDetectorTest, EjectionTimeGrowsWithTimesEjected) {
  TimePoint t = t0_;
  for (uint32_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t));
    EXPECT_EQ(detector_.times_ejected(), n);
    const auto d = EjectedFor(t);
    EXPECT_EQ(d, 10s * n);
    t += d;
  }
}

TEST_F(OutlierDetectorTest, EjectionTimeIsCappedAtMaxEjectionTime) {
  s_.max_ejection_time = 25s;
  TimePoint t = t0_;
  std::vector<std::chrono::seconds> times;
  for (int n = 0; n < 4; ++n) {
    ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t));
    times.push_back(EjectedFor(t));
    t += times.back();
  }
  EXPECT_EQ(times, (std::vector<std::chrono::seconds>{10s, 20s, 25s, 25s}));
}

TEST_F(OutlierDetectorTest, MaxEjectionTimeBelowBaseEjectsForBase) {
  s_.max_ejection_time = 1s;
  TimePoint t = t0_;
  for (int n = 0; n < 3; ++n) {
    ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t));
    EXPECT_EQ(EjectedFor(t), 10s);
    t += 10s;
  }
}

TEST_F(OutlierDetectorTest, MaxEjectionPercentCapsEjectedEndpoints) {
  s_.max_ejection_percent = 20;  // 2 of 10
  std::vector<OutlierDetector> endpoints(kClusterSize);
  int ejected = 0;
  for (auto& e : endpoints) ejected += Record(e, AttemptResult::k5xx, 3, t0_) ? 1 : 0;
  EXPECT_EQ(ejected, 2);
  EXPECT_EQ(cluster_.ejected.load(), 2u);
  EXPECT_FALSE(endpoints[2].ejected());
}

TEST_F(OutlierDetectorTest, AtLeastOneEndpointMayAlwaysBeEjected) {
  s_.max_ejection_percent = 10;
  std::vector<OutlierDetector> endpoints(3);
  int ejected = 0;
  for (auto& e : endpoints) {
    for (int i = 0; i < 3; ++i) ejected += e.OnResult(s_, AttemptResult::k5xx, cluster_, 3, t0_);
  }
  EXPECT_EQ(ejected, 1);
  EXPECT_EQ(cluster_.ejected.load(), 1u);
}

TEST_F(OutlierDetectorTest, RefusedEjectionNeedsANewRun) {
  s_.max_ejection_percent = 10;  // 1 of 10
  OutlierDetector other;
  ASSERT_TRUE(Record(other, AttemptResult::k5xx, 3, t0_));
  EXPECT_FALSE(Record(AttemptResult::k5xx, 3, t0_));  // refused: the cap is taken
  ASSERT_TRUE(other.Sweep(cluster_, t0_ + 10s));
  EXPECT_FALSE(Record(AttemptResult::k5xx, 2, t0_ + 10s));
  EXPECT_TRUE(Record(AttemptResult::k5xx, 1, t0_ + 10s));
}

TEST_F(OutlierDetectorTest, ReturnFreesAPlaceUnderTheCap) {
  s_.max_ejection_percent = 10;
  OutlierDetector other;
  ASSERT_TRUE(Record(other, AttemptResult::k5xx, 3, t0_));
  ASSERT_TRUE(other.Sweep(cluster_, t0_ + 10s));
  EXPECT_TRUE(Record(AttemptResult::k5xx, 3, t0_ + 10s));
}

TEST_F(OutlierDetectorTest, HealthyTimeForgivesOneEjectionPerBaseEjectionTime) {
  TimePoint t = t0_;
  for (int n = 0; n < 2; ++n) {
    ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t));
    t += EjectedFor(t);
  }
  ASSERT_EQ(detector_.times_ejected(), 2u);
  detector_.Sweep(cluster_, t + 10s - 1ns);
  EXPECT_EQ(detector_.times_ejected(), 2u);
  detector_.Sweep(cluster_, t + 10s);
  EXPECT_EQ(detector_.times_ejected(), 1u);
  detector_.Sweep(cluster_, t + 15s);
  EXPECT_EQ(detector_.times_ejected(), 1u);
  detector_.Sweep(cluster_, t + 20s);
  EXPECT_EQ(detector_.times_ejected(), 0u);
  // The next ejection is a first one again.
  ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t + 20s));
  EXPECT_EQ(EjectedFor(t + 20s), 10s);
}

TEST_F(OutlierDetectorTest, ConcurrentEjectionsNeverPassTheCap) {
  s_.max_ejection_percent = 20;
  for (int round = 0; round < 200; ++round) {
    OutlierClusterState cluster;
    std::vector<OutlierDetector> endpoints(kClusterSize);
    std::vector<std::thread> workers;
    for (size_t w = 0; w < 8; ++w) {
      workers.emplace_back([&, w] {
        for (size_t i = 0; i < 3 * kClusterSize; ++i) {
          auto& e = endpoints[(i + w) % kClusterSize];
          e.OnResult(s_, AttemptResult::k5xx, cluster, kClusterSize, t0_);
        }
      });
    }
    for (auto& w : workers) w.join();
    uint32_t ejected = 0;
    for (const auto& e : endpoints) ejected += e.ejected() ? 1 : 0;
    ASSERT_LE(cluster.ejected.load(), 2u);
    ASSERT_EQ(cluster.ejected.load(), ejected);
  }
}

}  // namespace
}  // namespace hermes::dataplane::resilience

namespace hermes::dataplane::resilience {
namespace {

TEST_F(OutlierDetectorTest, AHealthCheckThatPassesEndsAnEjection) {
  ASSERT_TRUE(Record(AttemptResult::k5xx, 3, t0_));
  EXPECT_EQ(cluster_.ejected.load(), 1u);
  uint64_t epoch = cluster_.epoch.load();
  EXPECT_TRUE(detector_.ReturnNow(cluster_, t0_ + 1s)) << "9 s before its ejection ends";
  EXPECT_FALSE(detector_.ejected());
  EXPECT_EQ(cluster_.ejected.load(), 0u);
  EXPECT_GT(cluster_.epoch.load(), epoch) << "balancers rebuild their view";
  EXPECT_FALSE(detector_.ReturnNow(cluster_, t0_ + 2s)) << "nothing to end";
  EXPECT_EQ(detector_.times_ejected(), 1u) << "the backoff still remembers the ejection";
}

}  // namespace
}  // namespace hermes::dataplane::resilience
