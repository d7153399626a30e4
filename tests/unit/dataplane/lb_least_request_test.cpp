#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/lb/load_balancer.h"
#include "tests/unit/dataplane/lb_test_cluster.h"

namespace hermes::dataplane::lb {
namespace {

std::unique_ptr<Cluster> MakeCluster(const std::vector<uint32_t>& weights) {
  return lb::MakeCluster(v1::LEAST_REQUEST, weights);
}

void SetActive(Cluster& cluster, size_t endpoint, int64_t active) {
  cluster.endpoints[endpoint].state->active_requests = active;
}

std::vector<int> Counts(LoadBalancer& lb, size_t endpoints, int picks,
                        std::span<const uint32_t> tried = {}) {
  std::vector<int> counts(endpoints, 0);
  for (int i = 0; i < picks; ++i) ++counts[*lb.Pick({.tried = tried})];
  return counts;
}

TEST(LeastRequestTest, TwoChoicesPickTheLessLoadedOfTwo) {
  auto cluster = MakeCluster({1, 1});
  SetActive(*cluster, 0, 10);
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(Counts(*lb, 2, 100), (std::vector<int>{0, 100}));
}

// The two choices are distinct endpoints, so the most loaded always loses its comparison.
TEST(LeastRequestTest, TwoChoicesNeverPickTheMostLoaded) {
  auto cluster = MakeCluster({1, 1, 1, 1, 1});
  for (size_t i = 0; i < 5; ++i) SetActive(*cluster, i, static_cast<int64_t>(i));
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto counts = Counts(*lb, 5, 1000);
  EXPECT_EQ(counts[4], 0);
  EXPECT_GT(counts[0], counts[3]);
}

TEST(LeastRequestTest, ChoicesCoveringTheClusterPickTheLeastLoaded) {
  auto cluster = MakeCluster({1, 1, 1, 1});
  cluster->least_request_choices = 4;
  SetActive(*cluster, 0, 3);
  SetActive(*cluster, 1, 1);
  SetActive(*cluster, 2, 0);
  SetActive(*cluster, 3, 2);
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(Counts(*lb, 4, 50), (std::vector<int>{0, 0, 50, 0}));
}

TEST(LeastRequestTest, EqualLoadSpreadsOverAllEndpoints) {
  auto cluster = MakeCluster({1, 1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 7);
  for (int count : Counts(*lb, 4, 4000)) EXPECT_NEAR(count, 1000, 150);
}

TEST(LeastRequestTest, WeightedWithoutLoadFollowsWeights) {
  auto cluster = MakeCluster({3, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto counts = Counts(*lb, 2, 400);
  EXPECT_NEAR(counts[0], 300, 2);
  EXPECT_NEAR(counts[1], 100, 2);
}

// weight / (active + 1): endpoint 0 has 2 / (3 + 1) = 0.5 against endpoint 1's 1.
TEST(LeastRequestTest, WeightedDividesWeightByActiveRequests) {
  auto cluster = MakeCluster({2, 1});
  SetActive(*cluster, 0, 3);
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto counts = Counts(*lb, 2, 300);
  EXPECT_NEAR(counts[0], 100, 3);
  EXPECT_NEAR(counts[1], 200, 3);
}

// weight / (active + 1)^bias: endpoint 0 has 8 / (1 + 1)^2 = 2 against endpoint 1's 1.
TEST(LeastRequestTest, ActiveRequestBiasIsAnExponent) {
  auto cluster = MakeCluster({8, 1});
  cluster->active_request_bias = 2.0;
  SetActive(*cluster, 0, 1);
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto counts = Counts(*lb, 2, 300);
  EXPECT_NEAR(counts[0], 200, 3);
  EXPECT_NEAR(counts[1], 100, 3);
}

TEST(LeastRequestTest, BiasZeroIsWeightedRoundRobin) {
  auto cluster = MakeCluster({2, 1});
  cluster->active_request_bias = 0.0;
  SetActive(*cluster, 0, 100);
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto counts = Counts(*lb, 2, 300);
  EXPECT_NEAR(counts[0], 200, 2);
  EXPECT_NEAR(counts[1], 100, 2);
}

TEST(LeastRequestTest, LoadIsReadAtEveryPick) {
  auto cluster = MakeCluster({2, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  Counts(*lb, 2, 30);
  SetActive(*cluster, 0, 99);  // now 2 / 100 against 1
  const auto counts = Counts(*lb, 2, 100);
  EXPECT_GT(counts[1], 90);
}

TEST(LeastRequestTest, UnavailableEndpointIsSkippedAfterEpochBump) {
  auto cluster = MakeCluster({1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 1, false);
  EXPECT_EQ(Counts(*lb, 3, 300)[1], 0);
}

TEST(LeastRequestTest, UnavailableWeightedEndpointIsSkippedAfterEpochBump) {
  auto cluster = MakeCluster({3, 2, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 0, false);
  EXPECT_EQ(Counts(*lb, 3, 300)[0], 0);
}

TEST(LeastRequestTest, BelowPanicThresholdAllEndpointsAreCandidates) {
  auto cluster = MakeCluster({1, 1, 1, 1, 1});
  cluster->panic_threshold = 50;
  auto lb = MakeLoadBalancer(*cluster, 1);
  for (size_t i = 0; i < 3; ++i) SetAvailable(*cluster, i, false);
  for (int count : Counts(*lb, 5, 500)) EXPECT_GT(count, 0);
}

TEST(LeastRequestTest, TriedEndpointIsAvoidedEvenWhenLeastLoaded) {
  auto cluster = MakeCluster({1, 1, 1});
  SetActive(*cluster, 1, 5);
  SetActive(*cluster, 2, 5);
  auto lb = MakeLoadBalancer(*cluster, 1);
  const std::vector<uint32_t> tried = {0};
  EXPECT_EQ(Counts(*lb, 3, 100, tried)[0], 0);
}

TEST(LeastRequestTest, TriedWeightedEndpointIsAvoided) {
  auto cluster = MakeCluster({5, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const std::vector<uint32_t> tried = {0, 2};
  EXPECT_EQ(Counts(*lb, 3, 20, tried), (std::vector<int>{0, 20, 0}));
}

TEST(LeastRequestTest, WhenEveryCandidateWasTriedOneOfThemIsPicked) {
  auto cluster = MakeCluster({1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const std::vector<uint32_t> tried = {0, 1};
  EXPECT_TRUE(lb->Pick({.tried = tried}).has_value());
}

TEST(LeastRequestTest, EmptyClusterPicksNothing) {
  auto cluster = MakeCluster({});
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(lb->Pick({}), std::nullopt);
}

}  // namespace
}  // namespace hermes::dataplane::lb
