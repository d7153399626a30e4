// How hermesctl's tables write rates, percentages and latencies.
#include <gtest/gtest.h>

#include <limits>

#include "ctl/number_text.h"

namespace hermes::ctl {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(NumberTextTest, FixedHasExactlyTheDecimalsAsked) {
  EXPECT_EQ(FormatFixed(20, 3), "20.000");
  EXPECT_EQ(FormatFixed(2.5, 0), "2");  // round half to even, as printf does
  EXPECT_EQ(FormatFixed(1.23456, 2), "1.23");
  EXPECT_EQ(FormatFixed(-1.5, 1), "-1.5");
}

TEST(NumberTextTest, FixedNeverWritesNegativeZero) {
  EXPECT_EQ(FormatFixed(-0.0, 2), "0.00");
  EXPECT_EQ(FormatFixed(-0.001, 2), "0.00");
}

TEST(NumberTextTest, FixedOfHugeAndNonFiniteValues) {
  EXPECT_EQ(FormatFixed(std::numeric_limits<double>::max(), 9).size(), 309u + 1 + 9);
  EXPECT_EQ(FormatFixed(kNan, 2), "-");
  EXPECT_EQ(FormatFixed(kInf, 2), "-");
}

TEST(NumberTextTest, RateHasTwoDecimals) {
  EXPECT_EQ(FormatRate(20), "20.00");
  EXPECT_EQ(FormatRate(0.004), "0.00");
  EXPECT_EQ(FormatRate(1234.567), "1234.57");
}

TEST(NumberTextTest, PercentOfAFraction) {
  EXPECT_EQ(FormatPercent(0.0417), "4.17%");
  EXPECT_EQ(FormatPercent(1), "100.00%");
  EXPECT_EQ(FormatPercent(0), "0.00%");
  EXPECT_EQ(FormatPercent(kNan), "-");
}

TEST(NumberTextTest, LatencyInMillisecondsUpToASecondThenSeconds) {
  EXPECT_EQ(FormatLatency(0.42), "0.4ms");
  EXPECT_EQ(FormatLatency(250), "250.0ms");
  EXPECT_EQ(FormatLatency(999.9), "999.9ms");
  EXPECT_EQ(FormatLatency(999.97), "1.00s");  // not "1000.0ms"
  EXPECT_EQ(FormatLatency(1480), "1.48s");
  EXPECT_EQ(FormatLatency(kInf), "-");
}

TEST(NumberTextTest, StepPercentDropsTrailingZeros) {
  EXPECT_EQ(FormatStepPercent(10), "10%");
  EXPECT_EQ(FormatStepPercent(12.5), "12.5%");
  EXPECT_EQ(FormatStepPercent(0.25), "0.25%");
  EXPECT_EQ(FormatStepPercent(100), "100%");
  EXPECT_EQ(FormatStepPercent(33.333), "33.33%");
  EXPECT_EQ(FormatStepPercent(std::numeric_limits<double>::quiet_NaN()), "-");
}

}  // namespace
}  // namespace hermes::ctl
