#include "dataplane/lb/load_balancer.h"

#include "dataplane/lb/policies.h"

namespace hermes::dataplane::lb {

LoadBalancerPtr MakeLoadBalancer(const Cluster& cluster, uint64_t seed) {
  // The compile step makes a cluster's balancers one after another into cluster.balancers: the
  // hash policies reuse the first one's ring or table.
  const LoadBalancer* sibling =
      cluster.balancers.empty() ? nullptr : cluster.balancers.front().get();
  switch (cluster.lb_policy) {
    case v1::LEAST_REQUEST:
      return MakeLeastRequest(cluster, seed);
    case v1::RANDOM:
      return MakeRandom(cluster, seed);
    case v1::RING_HASH:
      return MakeRingHash(cluster, seed, sibling);
    case v1::MAGLEV:
      return MakeMaglev(cluster, seed, sibling);
    case v1::ROUND_ROBIN:
    case v1::LB_POLICY_UNSPECIFIED:
    default:
      return MakeRoundRobin(cluster);
  }
}

}  // namespace hermes::dataplane::lb
