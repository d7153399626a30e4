// Traffic counters. Each worker writes only its own shard (single writer, relaxed load+store, no
// locked instructions on the request path); the admin thread sums the shards when it renders.
// Stats objects are keyed by name and outlive config updates, so counts survive a reload.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hermes/common/latency_buckets.h"

namespace hermes::dataplane {

class Counter {
 public:
  void Add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Add(int64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  int64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

struct alignas(64) TrafficShard {
  std::array<Counter, 6> responses_by_class;  // [0] = no response sent, [1..5] = 1xx..5xx
  std::array<Counter, kLatencyBucketsUs.size() + 1> latency_buckets;  // last = +Inf
  Counter latency_sum_us;
  Gauge active_requests;
  Counter upstream_connect_errors;
  Counter upstream_timeouts;
  Counter pool_reused;    // requests sent on a kept-alive upstream connection
  Counter pool_created;   // upstream connections opened
  Counter upstream_retries;         // tries after the first
  Counter upstream_retry_overflow;  // retries refused by the retry budget or max_retries
  Counter upstream_overflow;        // requests refused by a cluster limit (503, x-hermes-overloaded)
  Counter breaker_rejections;       // picks skipped because the endpoint's breaker was open

  void Record(unsigned status, std::chrono::microseconds latency);
};

// What one endpoint served on one worker: the endpoint's part of what TrafficShard counts for its
// cluster. Same rules as TrafficShard: only its worker writes it.
struct alignas(64) EndpointShard {
  std::array<Counter, 6> responses_by_class;  // the final try's response; [0] = none sent
  std::array<Counter, kLatencyBucketsUs.size() + 1> latency_buckets;
  Counter latency_sum_us;
  Counter connect_errors;      // connections to the endpoint that failed to open
  Counter timeouts;            // tries on the endpoint that timed out (connect, response head)
  Counter breaker_rejections;  // picks of the endpoint skipped because its breaker was open

  void Record(unsigned status, std::chrono::microseconds latency);
};

// An endpoint's shards summed: plain numbers, for reports.
struct EndpointTotals {
  std::array<uint64_t, 6> responses_by_class{};
  std::array<uint64_t, kLatencyBucketsUs.size() + 1> latency_buckets{};
  uint64_t latency_sum_us = 0;
  uint64_t connect_errors = 0;
  uint64_t timeouts = 0;
  uint64_t breaker_rejections = 0;

  void Add(const EndpointShard& shard);
  void Add(const EndpointTotals& other);
};

// The most worker threads a proxy runs (--workers accepts 1 to 256).
inline constexpr unsigned kMaxWorkers = 256;

// Counts for one route or cluster, one shard per worker.
struct TrafficStats {
  TrafficStats(std::string name, unsigned workers) : name(std::move(name)), shards(workers) {}
  std::string name;
  std::vector<TrafficShard> shards;
};

struct alignas(64) ListenerShard {
  Gauge active_connections;
  Counter connections_accepted;
  Counter requests;
  Counter rejected_requests;  // answered by Hermes itself with 4xx before routing (bad input, limits)
};

struct ListenerStats {
  ListenerStats(std::string name, unsigned workers) : name(std::move(name)), shards(workers) {}
  std::string name;
  std::vector<ListenerShard> shards;
};

// Owns every stats object by name. Lookups happen when a config is compiled, never per request.
class StatsStore {
 public:
  explicit StatsStore(unsigned workers) : workers_(workers) {}
  TrafficStats* Route(const std::string& name) { return Get(routes_, name); }
  TrafficStats* Cluster(const std::string& name) { return Get(clusters_, name); }
  ListenerStats* Listener(const std::string& name);
  unsigned workers() const { return workers_; }

  // Visitors for rendering (take the lock; admin thread only).
  template <class F>
  void ForEachRoute(F&& f) const { Visit(routes_, f); }
  template <class F>
  void ForEachCluster(F&& f) const { Visit(clusters_, f); }
  template <class F>
  void ForEachListener(F&& f) const {
    std::lock_guard lock(mu_);
    for (const auto& [_, s] : listeners_) f(*s);
  }

 private:
  using Map = std::map<std::string, std::unique_ptr<TrafficStats>>;
  TrafficStats* Get(Map& m, const std::string& name);
  template <class F>
  void Visit(const Map& m, F& f) const {
    std::lock_guard lock(mu_);
    for (const auto& [_, s] : m) f(*s);
  }

  unsigned workers_;
  mutable std::mutex mu_;
  Map routes_;
  Map clusters_;
  std::map<std::string, std::unique_ptr<ListenerStats>> listeners_;
};

}  // namespace hermes::dataplane
