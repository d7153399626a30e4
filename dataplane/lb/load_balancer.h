// Picking an endpoint of a cluster. One LoadBalancer per cluster per worker, so picks take no lock;
// shared per-endpoint state (active requests, availability) is read from atomics.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "dataplane/config/snapshot.h"

namespace hermes::dataplane::lb {

struct PickContext {
  // The request's hash key (hash_policy) for ring_hash and maglev; nullopt: a random pick.
  std::optional<uint64_t> hash;
  // Endpoints this request already tried (indexes into cluster.endpoints): avoided while another
  // candidate is left.
  std::span<const uint32_t> tried;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Index into cluster.endpoints; nullopt only when the cluster has no endpoints. Considers the
  // available endpoints (Available()), or all of them when fewer than panic_threshold percent
  // are available.
  virtual std::optional<size_t> Pick(const PickContext& context) = 0;
};

using LoadBalancerPtr = std::unique_ptr<LoadBalancer>;

// `seed` makes per-worker random choices independent and tests deterministic.
LoadBalancerPtr MakeLoadBalancer(const Cluster& cluster, uint64_t seed);

}  // namespace hermes::dataplane::lb
