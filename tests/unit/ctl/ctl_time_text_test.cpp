// Times in hermesctl's output: RFC 3339 UTC and relative ages.
#include <gtest/gtest.h>

#include <limits>

#include "ctl/time_text.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z

system_clock::time_point At(int64_t unix_ms) {
  return system_clock::time_point(milliseconds(unix_ms));
}

TEST(TimeTextTest, Rfc3339InUtc) {
  EXPECT_EQ(FormatRfc3339(kMay1Noon + 250), "2024-05-01T12:00:00Z");
}

TEST(TimeTextTest, Rfc3339WithMilliseconds) {
  EXPECT_EQ(FormatRfc3339Millis(kMay1Noon + 250), "2024-05-01T12:00:00.250Z");
}

TEST(TimeTextTest, ZeroIsNever) {
  EXPECT_EQ(FormatRfc3339(0), "-");
  EXPECT_EQ(FormatAge(0, At(kMay1Noon)), "-");
}

TEST(TimeTextTest, AgeInTheLargestWholeUnit) {
  EXPECT_EQ(FormatAge(kMay1Noon, At(kMay1Noon + 12'000)), "12s ago");
  EXPECT_EQ(FormatAge(kMay1Noon, At(kMay1Noon + 3 * 60'000 + 59'000)), "3m ago");
  EXPECT_EQ(FormatAge(kMay1Noon, At(kMay1Noon + 5 * 3'600'000)), "5h ago");
  EXPECT_EQ(FormatAge(kMay1Noon, At(kMay1Noon + 3 * 86'400'000)), "3d ago");
}

TEST(TimeTextTest, AgeCountsHoursUpToTwoDays) {
  EXPECT_EQ(FormatAge(kMay1Noon, At(kMay1Noon + 47 * 3'600'000)), "47h ago");
}

TEST(TimeTextTest, TimeAfterNowIsNoAge) {
  EXPECT_EQ(FormatAge(kMay1Noon + 5'000, At(kMay1Noon)), "0s ago");
}

TEST(TimeTextTest, TimesRfc3339CannotWriteAreUnknown) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(FormatRfc3339(kMin), "-");
  EXPECT_EQ(FormatRfc3339Millis(kMax), "-");
  EXPECT_EQ(FormatRfc3339(253'402'300'799'999), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(-62'167'219'200'000), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(253'402'300'800'000), "-");
}

TEST(TimeTextTest, AgesOfExtremeTimesNeverOverflow) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(SecondsSince(kMin, At(kMay1Noon)),
            (static_cast<uint64_t>(kMay1Noon) + (uint64_t{1} << 63)) / 1000);
  EXPECT_EQ(SecondsSince(std::numeric_limits<int64_t>::max(), At(kMay1Noon)), 0u);
  EXPECT_EQ(FormatAge(kMin, At(kMay1Noon)),
            std::to_string(SecondsSince(kMin, At(kMay1Noon)) / 86400) + "d ago");
}

TEST(TimeTextTest, MillisAsGoDurations) {
  EXPECT_EQ(FormatMillis(120'000), "2m");
  EXPECT_EQ(FormatMillis(3'605'000), "1h5s");
  EXPECT_EQ(FormatMillis(1'500), "1.5s");
  EXPECT_EQ(FormatMillis(std::numeric_limits<int64_t>::max()), "9223372036854775807ms");
  EXPECT_EQ(FormatMillis(std::numeric_limits<int64_t>::min()), "-9223372036854775808ms");
}

}  // namespace
}  // namespace hermes::ctl
