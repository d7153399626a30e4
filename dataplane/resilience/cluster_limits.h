// Envoy-style per-cluster circuit breaker thresholds, counted across all workers. Over a limit a
// request is refused at once with 503 and x-hermes-overloaded: true.
#pragma once

#include <atomic>
#include <cstdint>

namespace hermes::dataplane::resilience {

struct LimitSettings {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
};

// One counter with a ceiling: TryAcquire never lets the count exceed it, even under races.
class BoundedCounter {
 public:
  bool TryAcquire(uint32_t limit);
  void Release();
  int64_t value() const { return v_.load(std::memory_order_relaxed); }
  uint64_t overflows() const { return overflows_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
  std::atomic<uint64_t> overflows_{0};
};

struct ClusterLimitCounters {
  BoundedCounter connections;
  BoundedCounter pending_requests;
  BoundedCounter requests;
};

}  // namespace hermes::dataplane::resilience
