// maglev: Google's Maglev consistent hashing (NSDI '16, section 3.4) with Envoy's weighting.
// A table of a prime number of slots is filled by the endpoints in turns, each walking its own
// permutation of the slots (offset and skip from two hashes of its address); an endpoint takes
// turns in proportion to its weight. A key goes to table[hash % size]: O(1). The table is built
// over all endpoints; when the slot's endpoint is unavailable or already tried, the key is
// rehashed a few times and then the table is scanned forward, so a key whose endpoint stays
// available never moves.
#include <algorithm>
#include <vector>

#include "dataplane/lb/candidates.h"
#include "dataplane/lb/hash.h"
#include "dataplane/lb/policies.h"
#include "dataplane/lb/random.h"

namespace hermes::dataplane::lb {
namespace {

// Envoy's default; prime, so every skip generates a full permutation.
constexpr uint32_t kTableSize = 65537;
constexpr uint32_t kEmpty = UINT32_MAX;
constexpr int kRehashes = 16;

struct Table {
  const Cluster* cluster = nullptr;  // built for
  std::vector<uint32_t> slots;       // endpoint index; empty when the cluster has no endpoints
};

std::shared_ptr<const Table> BuildTable(const Cluster& cluster) {
  auto table = std::make_shared<Table>();
  table->cluster = &cluster;
  const auto& eps = cluster.endpoints;
  if (eps.empty()) return table;

  struct Builder {
    uint64_t position;  // offset + skip * turns taken, mod kTableSize
    uint64_t skip;
    uint64_t weight;
    uint64_t target = 0;
  };
  std::vector<Builder> builders;
  builders.reserve(eps.size());
  uint64_t max_weight = 0;
  for (const auto& ep : eps) {
    const uint64_t weight = std::max<uint32_t>(1, ep.weight);
    max_weight = std::max(max_weight, weight);
    builders.push_back(Builder{Hash64(ep.address, 0) % kTableSize,
                               Hash64(ep.address, 1) % (kTableSize - 1) + 1, weight});
  }

  table->slots.assign(kTableSize, kEmpty);
  uint32_t filled = 0;
  // Envoy's weighted population: the heaviest endpoint takes a slot every iteration, one of a
  // third its weight every third iteration.
  for (uint64_t iteration = 1; filled < kTableSize; ++iteration) {
    for (uint32_t i = 0; i < builders.size() && filled < kTableSize; ++i) {
      Builder& b = builders[i];
      if (iteration * b.weight < b.target) continue;
      b.target += max_weight;
      while (table->slots[b.position] != kEmpty) {
        b.position += b.skip;
        if (b.position >= kTableSize) b.position -= kTableSize;
      }
      table->slots[b.position] = i;
      ++filled;
    }
  }
  return table;
}

class Maglev final : public LoadBalancer {
 public:
  Maglev(const Cluster& cluster, uint64_t seed, std::shared_ptr<const Table> table)
      : table_(std::move(table)), candidates_(cluster), rng_(seed) {}

  const std::shared_ptr<const Table>& table() const { return table_; }

  std::optional<size_t> Pick(const PickContext& context) override {
    const auto& slots = table_->slots;
    if (slots.empty()) return std::nullopt;
    candidates_.Refresh();
    const auto avoid = context.tried.empty() ? context.tried : Avoid(candidates_, context.tried);
    if (!context.hash) return RandomCandidate(candidates_, avoid, rng_);
    const uint64_t key = *context.hash;
    auto usable = [&](uint32_t e) {
      return candidates_.contains(e) && (avoid.empty() || !Contains(avoid, e));
    };
    if (const uint32_t e = slots[key % kTableSize]; usable(e)) return e;
    for (int k = 1; k <= kRehashes; ++k) {
      const uint64_t rehashed =
          Hash64(std::string_view(reinterpret_cast<const char*>(&key), sizeof key), k);
      if (const uint32_t e = slots[rehashed % kTableSize]; usable(e)) return e;
    }
    for (size_t slot = key % kTableSize, steps = 0; steps < kTableSize; ++steps) {
      if (++slot == kTableSize) slot = 0;
      if (usable(slots[slot])) return slots[slot];
    }
    // Only when a candidate owns no slot (a tiny weight beside huge ones).
    return RandomCandidate(candidates_, avoid, rng_);
  }

 private:
  std::shared_ptr<const Table> table_;
  Candidates candidates_;
  Random rng_;
};

}  // namespace

LoadBalancerPtr MakeMaglev(const Cluster& cluster, uint64_t seed, const LoadBalancer* sibling) {
  const auto* same = dynamic_cast<const Maglev*>(sibling);
  auto table = same && same->table()->cluster == &cluster ? same->table() : BuildTable(cluster);
  return std::make_unique<Maglev>(cluster, seed, std::move(table));
}

}  // namespace hermes::dataplane::lb
