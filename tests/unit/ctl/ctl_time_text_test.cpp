// Times in hermesctl's output: RFC 3339 UTC and relative ages.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hermes::ctl
