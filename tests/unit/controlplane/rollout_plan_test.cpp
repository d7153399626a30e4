// The rollout arithmetic: selectors, canary order, step sizes, steps parsing and the gate.
#include "controlplane/rollout/rollout_plan.h"

#include <gtest/gtest.h>

namespace hermes::controlplane::rollout {
namespace {

v1::Node NodeWith(const std::string& id, const std::string& group,
                  std::map<std::string, std::string> labels) {
  v1::Node n;
  n.set_id(id);
  n.set_group(group);
  for (auto& [k, v] : labels) (*n.mutable_labels())[k] = v;
  return n;
}

TEST(RolloutPlanTest, AnEmptySelectorPicksEveryProxy) {
  EXPECT_TRUE(Selects({}, NodeWith("a", "", {})));
}

TEST(RolloutPlanTest, ASelectorNeedsEveryLabelToMatch) {
  v1::Node n = NodeWith("a", "edge", {{"zone", "eu"}, {"tier", "web"}});
  EXPECT_TRUE(Selects({{"zone", "eu"}}, n));
  EXPECT_TRUE(Selects({{"zone", "eu"}, {"tier", "web"}}, n));
  EXPECT_FALSE(Selects({{"zone", "eu"}, {"tier", "api"}}, n));
  EXPECT_FALSE(Selects({{"rack", "1"}}, n));
}

TEST(RolloutPlanTest, GroupMatchesTheNodesGroupUnlessALabelIsNamedGroup) {
  EXPECT_TRUE(Selects({{"group", "edge"}}, NodeWith("a", "edge", {})));
  EXPECT_FALSE(Selects({{"group", "core"}}, NodeWith("a", "edge", {})));
  EXPECT_TRUE(Selects({{"group", "x"}}, NodeWith("a", "edge", {{"group", "x"}})));
}

TEST(RolloutPlanTest, CanaryRankIsFnv1a64OfTheId) {
  EXPECT_EQ(CanaryRank(""), 14695981039346656037ull);
  EXPECT_EQ(CanaryRank("a"), 0xaf63dc4c8601ec8cull);  // the published FNV-1a 64 test vector
}

TEST(RolloutPlanTest, StepTargetRoundsUpAndMovesAtLeastOne) {
  EXPECT_EQ(StepTarget(2000, 5), 1u);
  EXPECT_EQ(StepTarget(1000, 5), 1u);
  EXPECT_EQ(StepTarget(5000, 5), 3u);
  EXPECT_EQ(StepTarget(10000, 5), 5u);
  EXPECT_EQ(StepTarget(1, 1000), 1u);
  EXPECT_EQ(StepTarget(2000, 0), 0u);
}

TEST(RolloutPlanTest, ProxiesMoveInCanaryOrder) {
  std::vector<std::string> fleet = {"p1", "p2", "p3", "p4", "p5"};
  std::vector<std::string> sorted = fleet;
  std::sort(sorted.begin(), sorted.end(), CanaryBefore);
  EXPECT_EQ(ProxiesToMove(fleet, {}, 2000), std::vector<std::string>{sorted[0]});
  std::vector<std::string> half = ProxiesToMove(fleet, {sorted[0]}, 5000);
  EXPECT_EQ(half, (std::vector<std::string>{sorted[1], sorted[2]}));
}

TEST(RolloutPlanTest, TheOrderDoesNotDependOnTheOrderProxiesAreListed) {
  std::vector<std::string> a = {"p1", "p2", "p3", "p4", "p5"};
  std::vector<std::string> b = {"p5", "p3", "p1", "p4", "p2"};
  EXPECT_EQ(ProxiesToMove(a, {}, 4000), ProxiesToMove(b, {}, 4000));
}

TEST(RolloutPlanTest, MovedProxiesCountEvenWhenNotConnectedSoReconnectingOnesTakeNoPlace) {
  // After a restart: the canary p3 has not reconnected yet, p1 has.
  EXPECT_TRUE(ProxiesToMove({"p1"}, {"p3"}, 2000).empty());
}

TEST(RolloutPlanTest, AStepWithMoreThanItsShareMovedMovesNobody) {
  EXPECT_TRUE(ProxiesToMove({"a", "b", "c", "d"}, {"a", "b"}, 2500).empty());
}

TEST(RolloutPlanTest, StepsParseIntoBasisPoints) {
  StepsParse p = ParseSteps({10, 50, 100});
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_EQ(p.steps, (std::vector<BasisPoints>{1000, 5000, 10000}));
  EXPECT_EQ(ParseSteps({12.5, 100}).steps, (std::vector<BasisPoints>{1250, 10000}));
}

TEST(RolloutPlanTest, BadStepsSayWhichAndWhy) {
  EXPECT_EQ(ParseSteps({}).error, "steps: at least one step is needed (the last is 100%)");
  EXPECT_EQ(ParseSteps({50, 20, 100}).error, "steps[1]: steps must increase (each above the one before)");
  EXPECT_EQ(ParseSteps({10, 50}).error, "steps[1]: the last step must be 100%");
  EXPECT_EQ(ParseSteps({0, 100}).error, "steps[0]: must be above 0% and at most 100%");
  EXPECT_EQ(ParseSteps({10, 150}).error, "steps[1]: must be above 0% and at most 100%");
  EXPECT_EQ(ParseSteps({10.125, 100}).error, "steps[0]: at most two decimals (e.g. 12.5%)");
  EXPECT_EQ(ParseSteps(std::vector<double>(21, 100)).error, "steps: at most 20 steps");
}

GateInput Healthy() {
  GateInput in;
  in.moved_connected = 2;
  in.acked = 2;
  in.step = {1000, 0};
  in.rest = {4000, 0};
  in.interval_passed = true;
  return in;
}

TEST(RolloutGateTest, PassesOnceTheIntervalPassedWithEveryProxyAckedAndNoErrors) {
  EXPECT_TRUE(Evaluate(Healthy()).ready);
  GateInput early = Healthy();
  early.interval_passed = false;
  GateVerdict v = Evaluate(early);
  EXPECT_FALSE(v.ready);
  EXPECT_FALSE(v.abort);
}

TEST(RolloutGateTest, ANackAbortsAtOnce) {
  GateInput in = Healthy();
  in.interval_passed = false;
  in.nacked = {"p3"};
  GateVerdict v = Evaluate(in);
  EXPECT_TRUE(v.abort);
  EXPECT_EQ(v.failure, "proxy p3 refused the version (NACK)");
}

TEST(RolloutGateTest, AnErrorRateOverTheThresholdAborts) {
  GateInput in = Healthy();
  in.step = {1000, 20};
  in.rest = {4000, 80};  // the same rate: only the threshold fails
  GateVerdict v = Evaluate(in);
  EXPECT_TRUE(v.abort);
  EXPECT_EQ(v.failure, "error rate 2.00% (20 of 1000 requests) is above the threshold 1.00%");
}

TEST(RolloutGateTest, AtTheThresholdPasses) {
  GateInput in = Healthy();
  in.step = {1000, 10};
  in.rest = {1000, 10};
  EXPECT_TRUE(Evaluate(in).ready);
}

TEST(RolloutGateTest, MoreThanTwiceTheRestsRateAborts) {
  GateInput in = Healthy();
  in.max_error_rate = 0.05;
  in.step = {1000, 25};  // 2.5%: under the threshold
  in.rest = {1000, 10};  // 1%: twice is 2%
  GateVerdict v = Evaluate(in);
  EXPECT_TRUE(v.abort);
  EXPECT_EQ(v.failure, "error rate 2.50% is more than twice the rest of the fleet's 1.00%");
}

TEST(RolloutGateTest, TheRelativeTestNeedsAFewErrorsToDecide) {
  GateInput in = Healthy();
  in.max_error_rate = 0.05;
  in.step = {100, 1};  // one error where the rest had none
  in.rest = {4000, 0};
  EXPECT_TRUE(Evaluate(in).ready);
}

TEST(RolloutGateTest, BeforeTheIntervalOneEarlyErrorDoesNotAbort) {
  GateInput in = Healthy();
  in.interval_passed = false;
  in.step = {3, 1};
  EXPECT_FALSE(Evaluate(in).abort);
  in.step = {10, 5};
  EXPECT_TRUE(Evaluate(in).abort);
}

TEST(RolloutGateTest, AZeroThresholdFailsOnAnyErrorOnceTheIntervalPassed) {
  GateInput in = Healthy();
  in.max_error_rate = 0;
  in.step = {1000, 1};
  in.rest = {1000, 1};
  EXPECT_TRUE(Evaluate(in).abort);
}

TEST(RolloutGateTest, AProxyThatHasNotAckedWaitsUntilItIsOverdue) {
  GateInput in = Healthy();
  in.acked = 1;
  GateVerdict waiting = Evaluate(in);
  EXPECT_FALSE(waiting.abort);
  EXPECT_FALSE(waiting.ready);
  EXPECT_EQ(waiting.failure, "1 of 2 moved proxies have not ACKed the version yet");
  in.overdue = 1;
  GateVerdict v = Evaluate(in);
  EXPECT_TRUE(v.abort);
  EXPECT_EQ(v.failure, "1 of 2 moved proxies did not ACK the version within the interval");
}

TEST(RolloutGateTest, NoTrafficIsNoReasonToAbort) {
  GateInput in = Healthy();
  in.step = {};
  in.rest = {};
  EXPECT_TRUE(Evaluate(in).ready);
}

}  // namespace
}  // namespace hermes::controlplane::rollout
