// The endpoint registry: per-endpoint and per-cluster state shared by every worker (active
// requests, breaker, outlier, health, traffic shards), kept by (cluster, address) while any
// snapshot uses it, so that it survives config updates and recompiles.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/lb/sticky_id.h"
#include "dataplane/resilience/circuit_breaker.h"
#include "dataplane/resilience/cluster_limits.h"
#include "dataplane/resilience/outlier_detector.h"
#include "dataplane/resilience/retry.h"
#include "dataplane/stats/stats.h"

namespace hermes::dataplane {

// Per-endpoint state shared by every worker, kept in atomics, surviving config updates while the
// endpoint (cluster + address) stays.
struct EndpointState {
  // `earlier`: what this endpoint counted in this process run before it left the config and came
  // back, so that its reported counters never go down within a run.
  explicit EndpointState(unsigned workers = 1, const EndpointTotals& earlier = {})
      : shards(workers), earlier(earlier) {}

  // This worker's traffic shard; null for a worker the state was not sized for.
  EndpointShard* shard(unsigned worker) {
    return worker < shards.size() ? &shards[worker] : nullptr;
  }
  // Every count of this process run: `earlier` and every worker's shard.
  EndpointTotals Totals() const;

  std::atomic<int64_t> active_requests{0};
  std::atomic<bool> healthy{
      true};  // written by health checking; true until a checker says otherwise
  resilience::CircuitBreaker breaker;
  resilience::OutlierDetector outlier;
  std::vector<EndpointShard> shards;  // one per worker; worker i writes only shards[i]
  const EndpointTotals earlier;
};

// Per-cluster state shared by every worker, surviving config updates while the cluster (by name)
// stays.
struct ClusterState {
  // Bumped whenever an endpoint's availability (health, ejection) changes: balancers rebuild
  // their view of available endpoints when they see a new value.
  std::atomic<uint64_t> availability_epoch{0};
  resilience::OutlierClusterState outlier;
  resilience::ClusterLimitCounters limits;
  resilience::RetryBudget retries;
};

// Available to a balancer: healthy per health checking and not ejected by outlier detection.
// (An open breaker is not unavailable here: the session asks the breaker after the pick.)
inline bool Available(const EndpointState& s) {
  return s.healthy.load(std::memory_order_relaxed) && !s.outlier.ejected();
}

// Keeps EndpointState objects alive by (cluster, address) across snapshots, and holds this
// process run's sticky-session key.
class EndpointStateRegistry {
 public:
  // Pruned endpoints whose counts are kept for a comeback; beyond this the longest-gone is
  // forgotten, and if it comes back its counters restart from 0 (the control plane sees a
  // counter below the one it kept and takes it as that scope's counters restarting).
  static constexpr std::size_t kMaxRetired = 10'000;

  // `workers`: the server's worker threads, one traffic shard each per endpoint.
  explicit EndpointStateRegistry(unsigned workers = kMaxWorkers,
                                 std::size_t max_retired = kMaxRetired)
      : workers_(workers), max_retired_(max_retired) {}
  std::shared_ptr<EndpointState> Get(const std::string& cluster, const std::string& address);
  std::shared_ptr<ClusterState> GetCluster(const std::string& cluster);
  // Drops states no snapshot references any more (keeping their counts for a comeback).
  void Prune();
  std::size_t retired() const { return retired_.size(); }
  // The key of sticky-session ids for a config without sticky_secret: random, made with the
  // registry (one per Server, so once per process run). Ids stay across reloads and DNS changes,
  // and change when the process restarts.
  const std::string& run_sticky_secret() const { return run_sticky_secret_; }

 private:
  using RetiredList = std::list<std::pair<std::string, EndpointTotals>>;

  unsigned workers_;
  std::size_t max_retired_;
  std::unordered_map<std::string, std::shared_ptr<EndpointState>> states_;  // key cluster/address
  std::unordered_map<std::string, std::shared_ptr<ClusterState>> clusters_;
  // The counts of pruned endpoints, oldest first, and where each key is in that list: a counter
  // of a process run never goes down (up to max_retired_ entries).
  RetiredList retired_order_;
  std::unordered_map<std::string, RetiredList::iterator> retired_;
  const std::string run_sticky_secret_ = lb::RandomStickySecret();
};

}  // namespace hermes::dataplane
