// Passive health (Envoy's outlier detection): consecutive 5xx, gateway failures and local-origin
// (connect) failures eject an endpoint for base_ejection_time x times ejected (capped), never more
// than max_ejection_percent of a cluster (at least one may always be ejected). Shared by every
// worker through atomics; time is passed in.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "dataplane/resilience/circuit_breaker.h"

namespace hermes::dataplane::resilience {

struct OutlierSettings {
  bool enabled = false;
  uint32_t consecutive_5xx = 5;                   // 0 = off
  uint32_t consecutive_gateway_failure = 5;       // 0 = off
  uint32_t consecutive_local_origin_failure = 5;  // 0 = off
  std::chrono::nanoseconds base_ejection_time = std::chrono::seconds(30);
  std::chrono::nanoseconds max_ejection_time = std::chrono::seconds(300);
  uint32_t max_ejection_percent = 10;
};

enum class AttemptResult : uint8_t {
  kSuccess,             // any response below 500
  k5xx,                 // 500, 501, 505...
  kGatewayFailure,      // 502, 503, 504 from the upstream (also counts as 5xx)
  kLocalOriginFailure,  // connect failure, reset or timeout: no response
};

// Cluster-wide ejection bookkeeping, shared by the cluster's endpoints.
struct OutlierClusterState {
  std::atomic<uint32_t> ejected{0};
  // Bumped on every ejection and return, so that per-worker balancers rebuild their view.
  std::atomic<uint64_t> epoch{0};
};

class OutlierDetector {
 public:
  // Records one attempt's result; returns true when it ejected the endpoint. `cluster_size` is
  // the number of endpoints in the cluster (for max_ejection_percent).
  bool OnResult(const OutlierSettings& s, AttemptResult r, OutlierClusterState& cluster,
                size_t cluster_size, TimePoint now);
  // Returns the endpoint when its ejection time is up; true when it returned now. Called
  // periodically (the server's outlier sweep). On a healthy endpoint it also forgives one past
  // ejection per base ejection time spent back in service, as Envoy lowers its backoff.
  bool Sweep(OutlierClusterState& cluster, TimePoint now);
  // An active health check found the endpoint healthy: an ejection ends now (Envoy's
  // successful_active_health_check_uneject_host). True when it returned the endpoint.
  bool ReturnNow(OutlierClusterState& cluster, TimePoint now);
  bool ejected() const { return phase_.load(std::memory_order_acquire) == kEjected; }
  uint32_t times_ejected() const { return times_ejected_.load(std::memory_order_relaxed); }

 private:
  // kChanging: one thread has claimed the endpoint to eject it, so that the ejection's fields are
  // written before any reader (Sweep) sees kEjected and two threads never eject it twice.
  enum Phase : uint8_t { kActive, kChanging, kEjected };

  bool Eject(const OutlierSettings& s, OutlierClusterState& cluster, size_t cluster_size,
             TimePoint now);
  void ResetCounters();

  std::atomic<uint32_t> consecutive_5xx_{0};
  std::atomic<uint32_t> consecutive_gateway_{0};
  std::atomic<uint32_t> consecutive_local_{0};
  std::atomic<uint8_t> phase_{kActive};
  std::atomic<int64_t> ejected_until_ns_{0};
  std::atomic<uint32_t> times_ejected_{0};
  // Healthy time forgives ejections: once the endpoint has been back for a base ejection time,
  // Sweep takes one off times_ejected_, and again after each further base ejection time.
  std::atomic<int64_t> forgive_at_ns_{0};
  std::atomic<int64_t> base_ejection_ns_{0};  // of the last ejection
};

}  // namespace hermes::dataplane::resilience
