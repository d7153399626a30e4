#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/lb/load_balancer.h"
#include "tests/unit/dataplane/lb_test_cluster.h"

namespace hermes::dataplane::lb {
namespace {

std::unique_ptr<Cluster> MakeCluster(const std::vector<uint32_t>& weights) {
  return lb::MakeCluster(v1::RANDOM, weights);
}

std::vector<int> Counts(LoadBalancer& lb, size_t endpoints, int picks,
                        std::span<const uint32_t> tried = {}) {
  std::vector<int> counts(endpoints, 0);
  for (int i = 0; i < picks; ++i) ++counts[*lb.Pick({.tried = tried})];
  return counts;
}

TEST(RandomTest, PicksAreProportionalToWeights) {
  auto cluster = MakeCluster({1, 2, 7});
  auto lb = MakeLoadBalancer(*cluster, 42);
  const auto counts = Counts(*lb, 3, 100000);
  EXPECT_NEAR(counts[0], 10000, 1000);
  EXPECT_NEAR(counts[1], 20000, 1000);
  EXPECT_NEAR(counts[2], 70000, 1000);
}

TEST(RandomTest, EqualWeightsAreUniform) {
  auto cluster = MakeCluster({1, 1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 42);
  for (int count : Counts(*lb, 4, 40000)) EXPECT_NEAR(count, 10000, 500);
}

TEST(RandomTest, SameSeedGivesTheSameSequence) {
  auto cluster = MakeCluster({1, 2, 3, 4});
  auto first = MakeLoadBalancer(*cluster, 9);
  auto second = MakeLoadBalancer(*cluster, 9);
  auto other = MakeLoadBalancer(*cluster, 10);
  std::vector<size_t> a, b, c;
  for (int i = 0; i < 50; ++i) {
    a.push_back(*first->Pick({}));
    b.push_back(*second->Pick({}));
    c.push_back(*other->Pick({}));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(RandomTest, UnavailableEndpointIsSkippedAfterEpochBump) {
  auto cluster = MakeCluster({1, 5, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 1, false);
  const auto counts = Counts(*lb, 3, 1000);
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0], 500, 100);
}

TEST(RandomTest, BelowPanicThresholdAllEndpointsAreCandidates) {
  auto cluster = MakeCluster({1, 1, 1, 1, 1});
  cluster->panic_threshold = 50;
  auto lb = MakeLoadBalancer(*cluster, 1);
  for (size_t i = 0; i < 3; ++i) SetAvailable(*cluster, i, false);
  for (int count : Counts(*lb, 5, 500)) EXPECT_GT(count, 0);
}

TEST(RandomTest, TriedEndpointIsAvoided) {
  auto cluster = MakeCluster({100, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const std::vector<uint32_t> tried = {0};
  const auto counts = Counts(*lb, 3, 1000, tried);
  EXPECT_EQ(counts[0], 0);
  EXPECT_NEAR(counts[1], 500, 100);
}

TEST(RandomTest, WhenEveryCandidateWasTriedOneOfThemIsPicked) {
  auto cluster = MakeCluster({1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 0, false);
  const std::vector<uint32_t> tried = {1, 2};
  const auto counts = Counts(*lb, 3, 100, tried);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[1] + counts[2], 100);
}

TEST(RandomTest, EmptyClusterPicksNothing) {
  auto cluster = MakeCluster({});
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(lb->Pick({}), std::nullopt);
}

}  // namespace
}  // namespace hermes::dataplane::lb
