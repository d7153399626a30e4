// round_robin: Envoy's weighted round robin. Equal weights rotate through the candidates; unequal
// weights run an earliest-deadline-first schedule (Envoy's EdfScheduler): an endpoint of weight w
// is due every 1/w, the earliest due is picked and re-scheduled, ties go to the earlier insertion.
// Weights 5,1,1 give a a a a b c a, repeating. O(1) per pick on equal weights, O(log n) otherwise.
#include <algorithm>
#include <vector>

#include "dataplane/lb/candidates.h"
#include "dataplane/lb/policies.h"

namespace hermes::dataplane::lb {
namespace {

class RoundRobin final : public LoadBalancer {
 public:
  explicit RoundRobin(const Cluster& cluster) : cluster_(cluster), candidates_(cluster) {
    schedule_.reserve(cluster.endpoints.size());
    skipped_.reserve(cluster.endpoints.size());
    Schedule();
  }

  std::optional<size_t> Pick(const PickContext& context) override {
    if (cluster_.endpoints.empty()) return std::nullopt;
    if (candidates_.Refresh()) Schedule();
    const auto avoid = context.tried.empty() ? context.tried : Avoid(candidates_, context.tried);
    return equal_weights_ ? Rotate(avoid) : EarliestDue(avoid);
  }

 private:
  // An endpoint is next due at turn / weight. Static weights make every due time a multiple of
  // 1/weight (Envoy adds 1/weight to the due time just picked), so it is kept as the exact
  // fraction: no floating-point drift deciding ties, and sequences are exact.
  struct Entry {
    uint64_t turn;
    uint64_t order;  // insertion order: the tie break
    uint32_t weight;
    uint32_t endpoint;
  };
  // Heap order: the entry due last sinks, so the front is due first.
  static bool DueLater(const Entry& a, const Entry& b) {
    const auto lhs = static_cast<__uint128_t>(a.turn) * b.weight;
    const auto rhs = static_cast<__uint128_t>(b.turn) * a.weight;
    return lhs != rhs ? lhs > rhs : a.order > b.order;
  }

  uint32_t Weight(size_t endpoint) const {
    return std::max<uint32_t>(1, cluster_.endpoints[endpoint].weight);
  }

  void Schedule() {
    const auto indexes = candidates_.indexes();
    equal_weights_ = true;
    schedule_.clear();
    order_ = 0;
    for (uint32_t i : indexes) {
      const uint32_t weight = Weight(i);
      equal_weights_ = equal_weights_ && weight == Weight(indexes[0]);
      schedule_.push_back(Entry{1, order_++, weight, i});
    }
    std::make_heap(schedule_.begin(), schedule_.end(), DueLater);
  }

  size_t Rotate(std::span<const uint32_t> avoid) {
    const auto indexes = candidates_.indexes();
    // The position survives a rebuild (as Envoy's rr index does); it may now be past the end.
    if (next_ >= indexes.size()) next_ = 0;
    for (;;) {
      const uint32_t i = indexes[next_];
      if (++next_ == indexes.size()) next_ = 0;
      if (avoid.empty() || !Contains(avoid, i)) return i;
    }
  }

  size_t EarliestDue(std::span<const uint32_t> avoid) {
    for (;;) {
      std::pop_heap(schedule_.begin(), schedule_.end(), DueLater);
      Entry entry = schedule_.back();
      if (!avoid.empty() && Contains(avoid, entry.endpoint)) {
        // Set aside unchanged: a tried endpoint keeps its turn for the next request.
        schedule_.pop_back();
        skipped_.push_back(entry);
        continue;
      }
      entry.turn++;
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
  bool equal_weights_ = true;
  size_t next_ = 0;
  uint64_t order_ = 0;
  std::vector<Entry> schedule_;  // a heap by DueLater
  std::vector<Entry> skipped_;   // reserved: picks do not allocate
};

}  // namespace

LoadBalancerPtr MakeRoundRobin(const Cluster& cluster) {
  return std::make_unique<RoundRobin>(cluster);
}

}  // namespace hermes::dataplane::lb
