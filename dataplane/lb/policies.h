// The balancers behind MakeLoadBalancer, one file each. Internal to dataplane/lb.
#pragma once

#include <cstdint>

#include "dataplane/lb/load_balancer.h"

namespace hermes::dataplane::lb {

LoadBalancerPtr MakeRoundRobin(const Cluster& cluster);
LoadBalancerPtr MakeLeastRequest(const Cluster& cluster, uint64_t seed);
LoadBalancerPtr MakeRandom(const Cluster& cluster, uint64_t seed);
// `sibling`: another balancer of the same cluster (the first worker's); when it is one of the same
// policy its ring or table is shared read-only instead of built again.
LoadBalancerPtr MakeRingHash(const Cluster& cluster, uint64_t seed, const LoadBalancer* sibling);
LoadBalancerPtr MakeMaglev(const Cluster& cluster, uint64_t seed, const LoadBalancer* sibling);

}  // namespace hermes::dataplane::lb
