// random: weighted random over the candidates. Equal weights: one draw, O(1); otherwise a draw
// below the total weight and a binary search over prefix sums, O(log n).
#include "dataplane/lb/random.h"

#include <algorithm>
#include <vector>

#include "dataplane/lb/candidates.h"
#include "dataplane/lb/policies.h"

namespace hermes::dataplane::lb {
namespace {

class RandomPick final : public LoadBalancer {
 public:
  RandomPick(const Cluster& cluster, uint64_t seed)
      : cluster_(cluster), candidates_(cluster), rng_(seed) {
    prefix_.reserve(cluster.endpoints.size());
    Prefix();
  }

  std::optional<size_t> Pick(const PickContext& context) override {
    if (cluster_.endpoints.empty()) return std::nullopt;
    if (candidates_.Refresh()) Prefix();
    const auto avoid = context.tried.empty() ? context.tried : Avoid(candidates_, context.tried);
    if (avoid.empty()) return Draw();
    // Redraw: a tried endpoint is rarely most of the weight. Then draw among the untried.
    for (int attempt = 0; attempt < 8; ++attempt) {
      const size_t i = Draw();
      if (!Contains(avoid, i)) return i;
    }
    uint64_t left = 0;
    for (uint32_t i : candidates_.indexes()) left += Contains(avoid, i) ? 0 : Weight(i);
    uint64_t r = rng_.Below(left);
    for (uint32_t i : candidates_.indexes()) {
      if (Contains(avoid, i)) continue;
      if (r < Weight(i)) return i;
      r -= Weight(i);
    }
    return candidates_.indexes()[0];  // unreachable
  }

 private:
  uint64_t Weight(size_t endpoint) const {
    return std::max<uint32_t>(1, cluster_.endpoints[endpoint].weight);
  }

  void Prefix() {
    const auto indexes = candidates_.indexes();
    equal_weights_ = true;
    prefix_.clear();
    uint64_t sum = 0;
    for (uint32_t i : indexes) {
      equal_weights_ = equal_weights_ && Weight(i) == Weight(indexes[0]);
      sum += Weight(i);
      prefix_.push_back(sum);
    }
  }

  size_t Draw() {
    const auto indexes = candidates_.indexes();
    if (equal_weights_) return indexes[rng_.Below(indexes.size())];
    // The first prefix sum above r: candidate k owns [prefix[k-1], prefix[k]).
    const uint64_t r = rng_.Below(prefix_.back());
    return indexes[std::upper_bound(prefix_.begin(), prefix_.end(), r) - prefix_.begin()];
  }

  const Cluster& cluster_;
  Candidates candidates_;
  Random rng_;
  bool equal_weights_ = true;
  std::vector<uint64_t> prefix_;  // running weight sums, by candidate
};

}  // namespace

LoadBalancerPtr MakeRandom(const Cluster& cluster, uint64_t seed) {
  return std::make_unique<RandomPick>(cluster, seed);
}

}  // namespace hermes::dataplane::lb
