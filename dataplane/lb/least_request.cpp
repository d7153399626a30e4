// least_request: Envoy's. Equal weights: of least_request_choices (default 2) distinct random
// candidates, the one with the fewest active requests (counted across all workers). Unequal
// weights: an earliest-deadline-first schedule where a picked endpoint is re-scheduled with the
// effective weight weight / (active + 1)^active_request_bias read at that pick (bias 0: plain
// weighted round robin). O(choices) and O(log n) per pick.
#include <algorithm>
#include <cmath>
#include <vector>

#include "dataplane/lb/candidates.h"
#include "dataplane/lb/policies.h"
#include "dataplane/lb/random.h"

namespace hermes::dataplane::lb {
namespace {

class LeastRequest final : public LoadBalancer {
 public:
  LeastRequest(const Cluster& cluster, uint64_t seed)
      : cluster_(cluster),
        candidates_(cluster),
        rng_(seed),
        choices_(cluster.least_request_choices == 0 ? 2 : cluster.least_request_choices),
        bias_(cluster.active_request_bias) {
    schedule_.reserve(cluster.endpoints.size());
    skipped_.reserve(cluster.endpoints.size());
    Schedule();
  }

  std::optional<size_t> Pick(const PickContext& context) override {
    if (cluster_.endpoints.empty()) return std::nullopt;
    if (candidates_.Refresh()) Schedule();
    const auto avoid = context.tried.empty() ? context.tried : Avoid(candidates_, context.tried);
    return weighted_ ? EarliestDue(avoid) : FewestOfChoices(avoid);
  }

 private:
  struct Entry {
    double due;
    uint64_t order;  // insertion order: the tie break
    uint32_t endpoint;
  };
  static bool DueLater(const Entry& a, const Entry& b) {
    return a.due != b.due ? a.due > b.due : a.order > b.order;
  }

  int64_t Active(size_t endpoint) const {
    return cluster_.endpoints[endpoint].state->active_requests.load(std::memory_order_relaxed);
  }
  uint32_t Weight(size_t endpoint) const {
    return std::max<uint32_t>(1, cluster_.endpoints[endpoint].weight);
  }
  double EffectiveWeight(size_t endpoint) const {
    const double weight = Weight(endpoint);
    if (bias_ == 0.0) return weight;
    const double load = static_cast<double>(std::max<int64_t>(0, Active(endpoint)) + 1);
    return bias_ == 1.0 ? weight / load
                        : weight / std::pow(load, bias_);  // pow is slow; 1.0 is the default
  }

  void Schedule() {
    const auto indexes = candidates_.indexes();
    weighted_ = false;
    for (uint32_t i : indexes) weighted_ = weighted_ || Weight(i) != Weight(indexes[0]);
    schedule_.clear();
    if (!weighted_) return;
    now_ = 0;
    order_ = 0;
    for (uint32_t i : indexes) schedule_.push_back(Entry{1.0 / EffectiveWeight(i), order_++, i});
    std::make_heap(schedule_.begin(), schedule_.end(), DueLater);
  }

  // Partial Fisher-Yates over the candidate list: distinct draws, no allocation.
  size_t FewestOfChoices(std::span<const uint32_t> avoid) {
    const auto indexes = candidates_.mutable_indexes();
    const size_t n = indexes.size();
    size_t best = n;
    int64_t best_active = 0;
    uint32_t drawn = 0;
    for (size_t j = 0; j < n && drawn < choices_; ++j) {
      std::swap(indexes[j], indexes[j + rng_.Below(n - j)]);
      const uint32_t i = indexes[j];
      if (!avoid.empty() && Contains(avoid, i)) continue;
      ++drawn;
      const int64_t active = Active(i);
      if (best == n || active < best_active) {
        best = i;
        best_active = active;
      }
    }
    return best;
  }

  size_t EarliestDue(std::span<const uint32_t> avoid) {
    for (;;) {
      std::pop_heap(schedule_.begin(), schedule_.end(), DueLater);
      Entry entry = schedule_.back();
      if (!avoid.empty() && Contains(avoid, entry.endpoint)) {
        schedule_.pop_back();
        skipped_.push_back(entry);
        continue;
      }
      now_ = entry.due;
      entry.due = now_ + 1.0 / EffectiveWeight(entry.endpoint);
      entry.order = order_++;
      schedule_.back() = entry;
      std::push_heap(schedule_.begin(), schedule_.end(), DueLater);
      for (const Entry& e : skipped_) {
        schedule_.push_back(e);
        std::push_heap(schedule_.begin(), schedule_.end(), DueLater);
      }
      skipped_.clear();
      return entry.endpoint;
    }
  }

  const Cluster& cluster_;
  Candidates candidates_;
  Random rng_;
  const uint32_t choices_;
  const double bias_;
  bool weighted_ = false;
  double now_ = 0;
  uint64_t order_ = 0;
  std::vector<Entry> schedule_;  // a heap by DueLater; empty on equal weights
  std::vector<Entry> skipped_;
};

}  // namespace

LoadBalancerPtr MakeLeastRequest(const Cluster& cluster, uint64_t seed) {
  return std::make_unique<LeastRequest>(cluster, seed);
}

}  // namespace hermes::dataplane::lb
