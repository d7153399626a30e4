#include "dataplane/lb/load_balancer.h"

#include <vector>

#include "dataplane/lb/random.h"

namespace hermes::dataplane::lb {
namespace {

bool Usable(const Endpoint& e) { return e.state->healthy.load(std::memory_order_relaxed); }

// Smooth weighted round robin (nginx's): every pick adds each weight to its endpoint's credit and
// takes the endpoint with the most credit, which then pays the total. Weights 5,1,1 give
// a a b a c a a, not a a a a a b c. O(n) per pick; fine for the cluster sizes this serves.
class RoundRobin final : public LoadBalancer {
 public:
  explicit RoundRobin(const Cluster& c) : cluster_(c), credit_(c.endpoints.size(), 0) {}

  std::optional<size_t> Pick(std::optional<size_t> exclude) override {
    const auto& eps = cluster_.endpoints;
    if (eps.empty()) return std::nullopt;
    std::optional<size_t> best;
    int64_t total = 0;
    for (int pass = 0; pass < 2 && !best; ++pass) {
      // First pass skips unhealthy and excluded endpoints; if none is left, use them all.
      for (size_t i = 0; i < eps.size(); ++i) {
        if (pass == 0 && (!Usable(eps[i]) || (exclude && *exclude == i && eps.size() > 1))) continue;
        credit_[i] += eps[i].weight;
        total += eps[i].weight;
        if (!best || credit_[i] > credit_[*best]) best = i;
      }
    }
    credit_[*best] -= total;
    return best;
  }

 private:
  const Cluster& cluster_;
  std::vector<int64_t> credit_;
};

// Power of two choices: of two random endpoints take the one with fewer active requests
// (counted across all workers).
class LeastRequest final : public LoadBalancer {
 public:
  LeastRequest(const Cluster& c, uint64_t seed) : cluster_(c), rng_(seed) {}

  std::optional<size_t> Pick(std::optional<size_t> exclude) override {
    const auto& eps = cluster_.endpoints;
    size_t n = eps.size();
    if (n == 0) return std::nullopt;
    if (n == 1) return 0;
    size_t best = n;
    for (int tries = 0; tries < 4 && best == n; ++tries) {
      size_t a = rng_.Below(n);
      size_t b = rng_.Below(n - 1);
      if (b >= a) ++b;
      bool ua = Usable(eps[a]) && exclude != a;
      bool ub = Usable(eps[b]) && exclude != b;
      if (ua && ub) {
        best = Active(eps[a]) <= Active(eps[b]) ? a : b;
      } else if (ua || ub) {
        best = ua ? a : b;
      }
    }
    return best == n ? rng_.Below(n) : best;
  }

 private:
  static int64_t Active(const Endpoint& e) {
    return e.state->active_requests.load(std::memory_order_relaxed);
  }
  const Cluster& cluster_;
  Random rng_;
};

// Weighted random.
class RandomPick final : public LoadBalancer {
 public:
  RandomPick(const Cluster& c, uint64_t seed) : cluster_(c), rng_(seed) {}

  std::optional<size_t> Pick(std::optional<size_t> exclude) override {
    const auto& eps = cluster_.endpoints;
    if (eps.empty()) return std::nullopt;
    for (int tries = 0; tries < 4; ++tries) {
      uint64_t r = rng_.Below(cluster_.total_weight);
      size_t i = 0;
      while (r >= eps[i].weight) r -= eps[i++].weight;
      if (Usable(eps[i]) && (exclude != i || eps.size() == 1)) return i;
    }
    return rng_.Below(eps.size());
  }

 private:
  const Cluster& cluster_;
  Random rng_;
};

}  // namespace

const char* UnsupportedPolicy(v1::LbPolicy policy) {
  switch (policy) {
    case v1::RING_HASH:
      return "ring_hash is not available in this build";
    case v1::MAGLEV:
      return "maglev is not available in this build";
    default:
      return "";
  }
}

LoadBalancerPtr MakeLoadBalancer(const Cluster& cluster, uint64_t seed) {
  switch (cluster.lb_policy) {
    case v1::LEAST_REQUEST:
      return std::make_unique<LeastRequest>(cluster, seed);
    case v1::RANDOM:
      return std::make_unique<RandomPick>(cluster, seed);
    case v1::ROUND_ROBIN:
    case v1::LB_POLICY_UNSPECIFIED:
      return std::make_unique<RoundRobin>(cluster);
    default:
      return nullptr;
  }
}

}  // namespace hermes::dataplane::lb
