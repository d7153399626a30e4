#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/lb/hash.h"
#include "dataplane/lb/load_balancer.h"
#include "tests/unit/dataplane/lb_test_cluster.h"

namespace hermes::dataplane::lb {
namespace {

std::unique_ptr<Cluster> MakeCluster(const std::vector<uint32_t>& weights) {
  return lb::MakeCluster(v1::MAGLEV, weights);
}

uint64_t Key(int i) { return Hash64("user-" + std::to_string(i)); }

// The endpoint of each of `n` keys.
std::vector<size_t> Owners(LoadBalancer& lb, int n) {
  std::vector<size_t> owners;
  for (int i = 0; i < n; ++i) owners.push_back(*lb.Pick({.hash = Key(i)}));
  return owners;
}

TEST(MaglevTest, SameKeyGoesToTheSameEndpoint) {
  auto cluster = MakeCluster({1, 1, 1, 1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  auto other_worker = MakeLoadBalancer(*cluster, 2);
  const auto owners = Owners(*lb, 1000);
  EXPECT_EQ(Owners(*lb, 1000), owners);
  EXPECT_EQ(Owners(*other_worker, 1000), owners);
}

TEST(MaglevTest, KeysSpreadInProportionToWeights) {
  auto cluster = MakeCluster({1, 1, 2});
  auto lb = MakeLoadBalancer(*cluster, 1);
  std::vector<int> counts(3, 0);
  for (size_t owner : Owners(*lb, 10000)) ++counts[owner];
  EXPECT_NEAR(counts[0], 2500, 300);
  EXPECT_NEAR(counts[1], 2500, 300);
  EXPECT_NEAR(counts[2], 5000, 300);
}

TEST(MaglevTest, UnavailableEndpointsKeysSpreadOverTheOthers) {
  auto cluster = MakeCluster(std::vector<uint32_t>(4, 1));
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto before = Owners(*lb, 8000);
  SetAvailable(*cluster, 0, false);
  const auto after = Owners(*lb, 8000);
  std::vector<int> counts(4, 0);
  for (size_t k = 0; k < before.size(); ++k) {
    if (before[k] == 0) ++counts[after[k]];
  }
  EXPECT_EQ(counts[0], 0);
  for (size_t i = 1; i < 4; ++i) EXPECT_GT(counts[i], 400) << "endpoint " << i;
}

TEST(MaglevTest, KeysOfAvailableEndpointsNeverMove) {
  auto cluster = MakeCluster(std::vector<uint32_t>(10, 1));
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto before = Owners(*lb, 10000);
  SetAvailable(*cluster, 3, false);
  const auto after = Owners(*lb, 10000);
  for (size_t k = 0; k < before.size(); ++k) {
    if (before[k] != 3) {
      EXPECT_EQ(after[k], before[k]) << "key " << k;
    }
    EXPECT_NE(after[k], 3u) << "key " << k;
  }
}

TEST(MaglevTest, KeysReturnWhenTheirEndpointRecovers) {
  auto cluster = MakeCluster(std::vector<uint32_t>(10, 1));
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto before = Owners(*lb, 2000);
  SetAvailable(*cluster, 3, false);
  SetAvailable(*cluster, 3, true);
  EXPECT_EQ(Owners(*lb, 2000), before);
}

// Consistent hashing: removing one of N endpoints moves about 1/N of the keys, not most of them.
TEST(MaglevTest, RemovingOneOfTenEndpointsMovesAboutATenthOfKeys) {
  auto ten = MakeCluster(std::vector<uint32_t>(10, 1));
  auto nine = MakeCluster(std::vector<uint32_t>(10, 1));
  nine->endpoints.erase(nine->endpoints.begin() + 3);
  auto before = MakeLoadBalancer(*ten, 1);
  auto after = MakeLoadBalancer(*nine, 1);
  int moved = 0;
  for (int k = 0; k < 10000; ++k) {
    const uint64_t key = Key(k);
    moved += ten->endpoints[*before->Pick({.hash = key})].address !=
             nine->endpoints[*after->Pick({.hash = key})].address;
  }
  EXPECT_LT(moved, 1500);
  EXPECT_GT(moved, 500);
}

TEST(MaglevTest, TriedEndpointPassesTheKeyOnAsIfItWereUnavailable) {
  auto cluster = MakeCluster(std::vector<uint32_t>(5, 1));
  auto lb = MakeLoadBalancer(*cluster, 1);
  const uint64_t key = Key(1);
  const std::vector<uint32_t> tried = {static_cast<uint32_t>(*lb->Pick({.hash = key}))};
  const auto retry = lb->Pick({.hash = key, .tried = tried});
  ASSERT_TRUE(retry.has_value());
  EXPECT_NE(*retry, tried[0]);
  SetAvailable(*cluster, tried[0], false);
  EXPECT_EQ(lb->Pick({.hash = key}), retry);
}

TEST(MaglevTest, WhenEveryCandidateWasTriedTheKeysEndpointIsPicked) {
  auto cluster = MakeCluster({1, 1});
  auto lb = MakeLoadBalancer(*cluster, 1);
  const uint64_t key = Key(1);
  const std::vector<uint32_t> tried = {0, 1};
  EXPECT_EQ(lb->Pick({.hash = key, .tried = tried}), lb->Pick({.hash = key}));
}

TEST(MaglevTest, BelowPanicThresholdKeysKeepUnavailableEndpoints) {
  auto cluster = MakeCluster(std::vector<uint32_t>(5, 1));
  cluster->panic_threshold = 50;
  auto lb = MakeLoadBalancer(*cluster, 1);
  const auto before = Owners(*lb, 1000);
  for (size_t i = 0; i < 3; ++i) SetAvailable(*cluster, i, false);
  EXPECT_EQ(Owners(*lb, 1000), before);
}

TEST(MaglevTest, WithoutHashKeyPicksARandomAvailableEndpoint) {
  auto cluster = MakeCluster(std::vector<uint32_t>(4, 1));
  auto lb = MakeLoadBalancer(*cluster, 1);
  SetAvailable(*cluster, 2, false);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 3000; ++i) ++counts[*lb->Pick({})];
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[0], 1000, 150);
  EXPECT_NEAR(counts[1], 1000, 150);
  EXPECT_NEAR(counts[3], 1000, 150);
}

// The compile step makes one balancer per worker into cluster.balancers; later ones share the
// first one's table and must agree with it.
TEST(MaglevTest, BalancersMadeAfterTheFirstAgreeWithIt) {
  auto cluster = MakeCluster({1, 2, 3});
  cluster->balancers.push_back(MakeLoadBalancer(*cluster, 1));
  auto second = MakeLoadBalancer(*cluster, 2);
  EXPECT_EQ(Owners(*second, 1000), Owners(*cluster->balancers[0], 1000));
}

TEST(MaglevTest, EmptyClusterPicksNothing) {
  auto cluster = MakeCluster({});
  auto lb = MakeLoadBalancer(*cluster, 1);
  EXPECT_EQ(lb->Pick({.hash = Key(1)}), std::nullopt);
  EXPECT_EQ(lb->Pick({}), std::nullopt);
}

}  // namespace
}  // namespace hermes::dataplane::lb
