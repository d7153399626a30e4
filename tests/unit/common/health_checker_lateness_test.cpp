// LatenessHistogram: how late health-check probes started, as counts and quantiles.
#include <gtest/gtest.h>

#include "hermes/common/health_checker.h"

namespace hermes::health {
namespace {

using namespace std::chrono_literals;

TEST(LatenessHistogramTest, IsEmptyAtFirst) {
  LatenessHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0us);
  EXPECT_EQ(h.Quantile(0.99), 0us);
}

TEST(LatenessHistogramTest, SmallLatenessesAreExact) {
  LatenessHistogram h;
  for (int us : {0, 1, 2, 3, 3, 3, 5}) h.Record(Micros(us));
  EXPECT_EQ(h.count(), 7u);
  EXPECT_EQ(h.Quantile(0.0), 0us);
  EXPECT_EQ(h.Quantile(0.5), 3us);
  EXPECT_EQ(h.Quantile(1.0), 5us);
  EXPECT_EQ(h.max(), 5us);
}

TEST(LatenessHistogramTest, AQuantileIsAtMostAQuarterAboveTheTrueValue) {
  LatenessHistogram h;
  for (int us = 1; us <= 100000; ++us) h.Record(Micros(us));
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    auto truth = static_cast<int64_t>(q * 100000);
    Micros got = h.Quantile(q);
    EXPECT_GE(got.count(), truth) << q;
    EXPECT_LE(got.count(), truth + truth / 4) << q;
  }
}

TEST(LatenessHistogramTest, TheTopQuantileIsTheExactMaximum) {
  LatenessHistogram h;
  h.Record(10us);
  h.Record(1234567us);
  EXPECT_EQ(h.Quantile(1.0), 1234567us);
  EXPECT_EQ(h.max(), 1234567us);
}

TEST(LatenessHistogramTest, AStartBeforeTheDueTimeCountsAsOnTime) {
  LatenessHistogram h;
  h.Record(-5us);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), 0us);
  EXPECT_EQ(h.Quantile(1.0), 0us);
}

TEST(LatenessHistogramTest, HugeLatenessesAreCountedInTheLastBucket) {
  LatenessHistogram h;
  h.Record(Micros(int64_t{1} << 50));
  h.Record(1ms);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.Quantile(1.0), Micros(int64_t{1} << 50));
  EXPECT_LE(h.Quantile(0.5), 1250us);
}

TEST(LatenessHistogramTest, SinceCountsOnlyWhatCameAfterTheEarlierCopy) {
  LatenessHistogram h;
  for (int i = 0; i < 100; ++i) h.Record(400ms);  // a burst at the start
  LatenessHistogram earlier = h;
  for (int i = 0; i < 1000; ++i) h.Record(Micros(100 + i % 3));
  LatenessHistogram part = h.Since(earlier);
  EXPECT_EQ(part.count(), 1000u);
  // The part's max is its highest bucket's top: at or above 102 us, within a quarter.
  EXPECT_GE(part.max(), 102us);
  EXPECT_LE(part.max(), 127us);
  EXPECT_EQ(part.Quantile(1.0), part.max());
  EXPECT_EQ(h.Quantile(1.0), 400ms) << "the whole is unchanged";
}

TEST(LatenessHistogramTest, SinceAnIdenticalCopyIsEmpty) {
  LatenessHistogram h;
  h.Record(5ms);
  LatenessHistogram part = h.Since(h);
  EXPECT_EQ(part.count(), 0u);
  EXPECT_EQ(part.Quantile(0.99), 0us);
}

}  // namespace
}  // namespace hermes::health
