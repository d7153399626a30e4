// Picking an endpoint of a cluster. One LoadBalancer per cluster per worker, so picks take no lock;
// shared per-endpoint state (active requests, health) is read from atomics.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "dataplane/snapshot.h"

namespace hermes::dataplane::lb {

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Index into cluster.endpoints, skipping `exclude` (an endpoint that just failed) when another
  // is available; nullopt when the cluster has no endpoints.
  virtual std::optional<size_t> Pick(std::optional<size_t> exclude = std::nullopt) = 0;
};

using LoadBalancerPtr = std::unique_ptr<LoadBalancer>;

// `seed` makes per-worker random choices independent and tests deterministic.
// Returns nullptr for a policy this build does not implement (see UnsupportedPolicy).
LoadBalancerPtr MakeLoadBalancer(const Cluster& cluster, uint64_t seed);

// Why a cluster's policy cannot be served by this build, or "" when it can.
const char* UnsupportedPolicy(hermes::v1::LbPolicy policy);

}  // namespace hermes::dataplane::lb
