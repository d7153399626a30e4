#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/lb/load_balancer.h"
#include "tests/unit/dataplane/lb_test_cluster.h"

namespace hermes::dataplane::lb {
namespace {

std::unique_ptr<Cluster> MakeCluster(const std::vector<uint32_t>& weights) {
  return lb::MakeCluster(v1::ROUND_ROBIN, weights);
}

// Endpoint 0 is 'a', 1 is 'b', ...
std::string Picks(LoadBalancer& lb, int n, std::span<const uint32_t> tried = {}) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>('a' + *lb.Pick({.tried = tried}));
  return out;
}

TEST(RoundRobinTest, EqualWeightsRotateInOrder) {
  auto cluster = MakeCluster({1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(Picks(*lb, 9), "abcabcabc");
}

TEST(RoundRobinTest, UnspecifiedPolicyIsRoundRobin) {
  auto cluster = MakeCluster({1, 1, 1});
  cluster->lb_policy = v1::LB_POLICY_UNSPECIFIED;
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(Picks(*lb, 6), "abcabc");
}

// Envoy's EdfScheduler: a is due at 1/5, 2/5, ..., b and c at 1; ties go to the earlier insertion.
TEST(RoundRobinTest, WeightsFollowEarliestDeadlineFirstExactly) {
  auto cluster = MakeCluster({5, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(Picks(*lb, 14), "aaaabcaaaaabca");
}

TEST(RoundRobinTest, WeightedPicksInterleaveInEveryWindowOfTotalWeight) {
  auto cluster = MakeCluster({5, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const std::string seq = Picks(*lb, 70);
  for (size_t start = 0; start + 7 <= seq.size(); ++start) {
    const std::string window = seq.substr(start, 7);
    EXPECT_EQ(std::count(window.begin(), window.end(), 'a'), 5) << window;
    EXPECT_EQ(std::count(window.begin(), window.end(), 'b'), 1) << window;
    EXPECT_EQ(std::count(window.begin(), window.end(), 'c'), 1) << window;
  }
  EXPECT_NE(seq.substr(0, 7), "aaaaabc");  // not batched
}

TEST(RoundRobinTest, WeightedSequenceIsTheSameOnEveryBalancer) {
  auto cluster = MakeCluster({3, 2, 1});
  auto first = MakeLoadBalancer(*cluster, 1);
  auto second = MakeLoadBalancer(*cluster, 2);
  EXPECT_EQ(Picks(*first, 30), Picks(*second, 30));
}

TEST(RoundRobinTest, UnavailableEndpointIsSkippedAfterEpochBump) {
  auto cluster = MakeCluster({1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(Picks(*lb, 3), "abc");
  SetAvailable(*cluster, 1, false);
  EXPECT_EQ(Picks(*lb, 6), "acacac");
}

TEST(RoundRobinTest, RecoveredEndpointReturnsAfterEpochBump) {
  auto cluster = MakeCluster({1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 1, false);
  EXPECT_EQ(Picks(*lb, 4).find('b'), std::string::npos);
  SetAvailable(*cluster, 1, true);
  EXPECT_NE(Picks(*lb, 3).find('b'), std::string::npos);
}

TEST(RoundRobinTest, UnavailableWeightedEndpointIsSkipped) {
  auto cluster = MakeCluster({5, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 0, false);
  EXPECT_EQ(Picks(*lb, 6), "bcbcbc");
}

TEST(RoundRobinTest, BelowPanicThresholdAllEndpointsAreCandidates) {
  auto cluster = MakeCluster({1, 1, 1, 1, 1});
  cluster->panic_threshold = 50;
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 0, false);
  SetAvailable(*cluster, 1, false);
  SetAvailable(*cluster, 2, false);  // 2 of 5 available: 40% < 50%
  EXPECT_EQ(Picks(*lb, 5), "abcde");
}

TEST(RoundRobinTest, AtPanicThresholdOnlyAvailableEndpointsAreCandidates) {
  auto cluster = MakeCluster({1, 1, 1, 1});
  cluster->panic_threshold = 50;
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 0, false);
  SetAvailable(*cluster, 1, false);  // 2 of 4 available: 50%, not below
  EXPECT_EQ(Picks(*lb, 4), "cdcd");
}

TEST(RoundRobinTest, PanicThresholdZeroIsOff) {
  auto cluster = MakeCluster({1, 1, 1, 1, 1});
  cluster->panic_threshold = 0;
  auto lb = MakeLoadBalancer(*cluster, 1);
  for (size_t i = 0; i < 4; ++i) SetAvailable(*cluster, i, false);
  EXPECT_EQ(Picks(*lb, 3), "eee");
}

TEST(RoundRobinTest, NoEndpointAvailableStillPicksOne) {
  auto cluster = MakeCluster({1, 1});
  cluster->panic_threshold = 0;
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 0, false);
  SetAvailable(*cluster, 1, false);
  EXPECT_EQ(Picks(*lb, 4), "abab");
}

TEST(RoundRobinTest, EmptyClusterPicksNothing) {
  auto cluster = MakeCluster({});
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(lb->Pick({}), std::nullopt);
}

TEST(RoundRobinTest, ClusterWithoutStateNeverRebuilds) {
  auto cluster = MakeCluster({1, 1});
  cluster->state = nullptr;
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(Picks(*lb, 4), "abab");
}

TEST(RoundRobinTest, TriedEndpointIsAvoided) {
  auto cluster = MakeCluster({1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const std::vector<uint32_t> tried = {0};
  EXPECT_EQ(Picks(*lb, 6, tried).find('a'), std::string::npos);
}

TEST(RoundRobinTest, TriedWeightedEndpointIsAvoidedAndKeepsItsTurn) {
  auto cluster = MakeCluster({5, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const std::vector<uint32_t> tried = {0};
  EXPECT_EQ(Picks(*lb, 1, tried), "b");
  // a was due first and still is: the retry did not use up its turn.
  EXPECT_EQ(Picks(*lb, 1), "a");
}

TEST(RoundRobinTest, WhenEveryCandidateWasTriedOneOfThemIsPicked) {
  auto cluster = MakeCluster({1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 2, false);
  const std::vector<uint32_t> tried = {1, 0, 1};
  EXPECT_EQ(Picks(*lb, 4, tried), "abab");
}

}  // namespace
}  // namespace hermes::dataplane::lb
