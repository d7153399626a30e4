// The endpoints a balancer may pick (Envoy's healthy host set with its panic mode), cached per
// balancer and rebuilt when the cluster's availability epoch moves; and the `tried` rule shared by
// every policy.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/lb/random.h"
#include "dataplane/config/snapshot.h"

namespace hermes::dataplane::lb {

class Candidates {
 public:
  explicit Candidates(const Cluster& cluster);

  // Rebuilds when availability changed since the last look; true when it did. One atomic load
  // when nothing changed. A cluster without state (hand-built in tests) has epoch 0 forever.
  bool Refresh() {
    const ClusterState* state = cluster_.state.get();
    // Acquire pairs with a release increment, so the rebuild sees the health change it signals
    // (on x86 this is a plain load).
    const uint64_t epoch = state ? state->availability_epoch.load(std::memory_order_acquire) : 0;
    if (epoch == epoch_) return false;
    Rebuild(epoch);
    return true;
  }

  // Indexes into cluster.endpoints, ascending after a rebuild. Never empty unless the cluster
  // has no endpoints: with none available every endpoint is a candidate.
  std::span<const uint32_t> indexes() const { return indexes_; }
  // Callers that draw without replacement may permute the order (Fisher-Yates in place).
  std::span<uint32_t> mutable_indexes() { return indexes_; }
  size_t size() const { return indexes_.size(); }
  bool contains(size_t endpoint) const { return endpoint < member_.size() && member_[endpoint]; }
  // Fewer than panic_threshold percent available: every endpoint is a candidate.
  bool panic() const { return panic_; }

 private:
  void Rebuild(uint64_t epoch);

  const Cluster& cluster_;
  uint64_t epoch_ = 0;
  bool panic_ = false;
  std::vector<uint32_t> indexes_;
  std::vector<uint8_t> member_;  // by endpoint index
};

inline bool Contains(std::span<const uint32_t> tried, size_t endpoint) {
  for (uint32_t t : tried) {
    if (t == endpoint) return true;
  }
  return false;
}

// The endpoints to avoid: `tried`, or nothing when every candidate was tried (then a tried one
// is picked again rather than none). O(tried^2); a request tries a handful of endpoints at most.
std::span<const uint32_t> Avoid(const Candidates& candidates, std::span<const uint32_t> tried);

// A uniformly random candidate not in `avoid` (which must leave one). For picks without a hash key.
size_t RandomCandidate(const Candidates& candidates, std::span<const uint32_t> avoid, Random& rng);

}  // namespace hermes::dataplane::lb
