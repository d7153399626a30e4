// NextProbeDue: when a target's next probe falls due, given when the last one started and when it
// finished (times are given, not read from a clock).
#include <gtest/gtest.h>

#include "hermes/common/health_checker.h"

namespace hermes::health {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

const TimePoint kDue = TimePoint() + 1000h;  // a whole millisecond

TEST(NextProbeDueTest, AProbeIsDueOneWaitAfterTheLastOneStarted) {
  EXPECT_EQ(NextProbeDue(kDue, kDue + 3ms, 1s), kDue + 1s);
  EXPECT_EQ(NextProbeDue(kDue, kDue + 600ms, 1s), kDue + 1s) << "however long the probe took";
}

TEST(NextProbeDueTest, AStartLessThanHalfAMillisecondLateKeepsTheSchedule) {
  EXPECT_EQ(NextProbeDue(kDue + 400us, kDue + 450us, 1s), kDue + 1s);
}

TEST(NextProbeDueTest, ASuccessionOfSlightlyLateStartsDoesNotDrift) {
  TimePoint due = kDue;
  for (int i = 0; i < 1000; ++i) due = NextProbeDue(due + 300us, due + 450us, 1s);
  EXPECT_EQ(due, kDue + 1000s);
}

TEST(NextProbeDueTest, AProbeThatStartedLateMovesTheSchedule) {
  // Waited 350 ms for a slot: the next is due one second after it actually started, so targets
  // that all fell due at once do not queue up again every interval.
  EXPECT_EQ(NextProbeDue(kDue + 350ms, kDue + 351ms, 1s), kDue + 1350ms);
}

TEST(NextProbeDueTest, ProbesFallDueOnWholeMilliseconds) {
  EXPECT_EQ(NextProbeDue(kDue, kDue + 3ms, 1s + 700us), kDue + 1s + 1ms);
  EXPECT_EQ(NextProbeDue(kDue + 2600us, kDue + 3ms, 1s), kDue + 1s + 3ms);
}

TEST(NextProbeDueTest, AProbeThatFinishesExactlyWhenTheNextFallsDueDoesNotDelayIt) {
  EXPECT_EQ(NextProbeDue(kDue, kDue + 1s, 1s), kDue + 1s);
}

TEST(NextProbeDueTest, AProbeThatOverranTheWaitIsFollowedByAFullWaitFromItsEnd) {
  // A 2 s timeout against a 1 s interval: no back-to-back probe of a slow target.
  EXPECT_EQ(NextProbeDue(kDue, kDue + 2s, 1s), kDue + 3s);
}

}  // namespace
}  // namespace hermes::health
