#include "dataplane/lb/candidates.h"

namespace hermes::dataplane::lb {

Candidates::Candidates(const Cluster& cluster)
    : cluster_(cluster), member_(cluster.endpoints.size(), 0) {
  indexes_.reserve(cluster.endpoints.size());
  const ClusterState* state = cluster_.state.get();
  Rebuild(state ? state->availability_epoch.load(std::memory_order_acquire) : 0);
}

void Candidates::Rebuild(uint64_t epoch) {
  epoch_ = epoch;
  const auto& eps = cluster_.endpoints;
  indexes_.clear();
  for (uint32_t i = 0; i < eps.size(); ++i) {
    const bool available = Available(*eps[i].state);
    member_[i] = available;
    if (available) indexes_.push_back(i);
  }
  // Envoy's panic mode: below the threshold, spreading load over the few available endpoints
  // would overload them; use all. With none available there is nothing else to pick either.
  const uint64_t threshold = cluster_.panic_threshold;
  panic_ = indexes_.empty() || indexes_.size() * 100 < threshold * eps.size();
  if (panic_) {
    indexes_.clear();
    for (uint32_t i = 0; i < eps.size(); ++i) {
      member_[i] = 1;
      indexes_.push_back(i);
    }
  }
}

std::span<const uint32_t> Avoid(const Candidates& candidates, std::span<const uint32_t> tried) {
  size_t tried_candidates = 0;
  for (size_t k = 0; k < tried.size(); ++k) {
    if (candidates.contains(tried[k]) && !Contains(tried.first(k), tried[k])) ++tried_candidates;
  }
  if (tried_candidates >= candidates.size()) return {};
  return tried;
}

size_t RandomCandidate(const Candidates& candidates, std::span<const uint32_t> avoid, Random& rng) {
  const auto indexes = candidates.indexes();
  const size_t n = indexes.size();
  if (avoid.empty()) return indexes[rng.Below(n)];
  // Rejection sampling finds an untried one quickly unless nearly all were tried; then count.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const uint32_t i = indexes[rng.Below(n)];
    if (!Contains(avoid, i)) return i;
  }
  size_t left = 0;
  for (uint32_t i : indexes) left += !Contains(avoid, i);
  size_t k = rng.Below(left);
  for (uint32_t i : indexes) {
    if (!Contains(avoid, i) && k-- == 0) return i;
  }
  return indexes[0];  // unreachable: Avoid() leaves at least one
}

}  // namespace hermes::dataplane::lb
