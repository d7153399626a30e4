// HealthState: the consecutive-result thresholds of active health checking.
#include <gtest/gtest.h>

#include "hermes/common/health_checker.h"

namespace hermes::health {
namespace {

ProbeSpec Spec(uint32_t healthy, uint32_t unhealthy) {
  ProbeSpec s;
  s.healthy_threshold = healthy;
  s.unhealthy_threshold = unhealthy;
  return s;
}

TEST(HealthStateTest, StartsHealthy) { EXPECT_TRUE(HealthState().healthy()); }

TEST(HealthStateTest, CanStartUnhealthyAndReturnsAfterHealthyThresholdSuccesses) {
  HealthState s(false);
  auto spec = Spec(2, 3);
  EXPECT_FALSE(s.healthy());
  EXPECT_EQ(s.OnResult(false, spec), std::nullopt);
  EXPECT_EQ(s.OnResult(true, spec), std::nullopt);
  EXPECT_EQ(s.OnResult(true, spec), std::optional<bool>(true));
}

TEST(HealthStateTest, TurnsUnhealthyAfterUnhealthyThresholdFailuresInARow) {
  HealthState s;
  auto spec = Spec(2, 3);
  EXPECT_EQ(s.OnResult(false, spec), std::nullopt);
  EXPECT_EQ(s.OnResult(false, spec), std::nullopt);
  EXPECT_EQ(s.OnResult(false, spec), std::optional<bool>(false));
  EXPECT_FALSE(s.healthy());
}

TEST(HealthStateTest, ASuccessBreaksARunOfFailures) {
  HealthState s;
  auto spec = Spec(2, 3);
  s.OnResult(false, spec);
  s.OnResult(false, spec);
  s.OnResult(true, spec);
  EXPECT_EQ(s.OnResult(false, spec), std::nullopt);
  EXPECT_EQ(s.OnResult(false, spec), std::nullopt);
  EXPECT_TRUE(s.healthy());
}

TEST(HealthStateTest, ReturnsAfterHealthyThresholdSuccessesInARow) {
  HealthState s;
  auto spec = Spec(2, 1);
  EXPECT_EQ(s.OnResult(false, spec), std::optional<bool>(false));
  EXPECT_EQ(s.OnResult(true, spec), std::nullopt);
  EXPECT_EQ(s.OnResult(true, spec), std::optional<bool>(true));
  EXPECT_TRUE(s.healthy());
}

TEST(HealthStateTest, AFailureBreaksARunOfSuccessesWhileUnhealthy) {
  HealthState s;
  auto spec = Spec(2, 1);
  s.OnResult(false, spec);
  s.OnResult(true, spec);
  EXPECT_EQ(s.OnResult(false, spec), std::nullopt);
  EXPECT_EQ(s.OnResult(true, spec), std::nullopt);
  EXPECT_FALSE(s.healthy());
}

TEST(HealthStateTest, ZeroThresholdsActAsOne) {
  HealthState s;
  auto spec = Spec(0, 0);
  EXPECT_EQ(s.OnResult(false, spec), std::optional<bool>(false));
  EXPECT_EQ(s.OnResult(true, spec), std::optional<bool>(true));
}

}  // namespace
}  // namespace hermes::health
