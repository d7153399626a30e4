// Passive health per endpoint: consecutive-failure counters, ejection under the cluster's cap and
// the return of ejected endpoints, all with atomics.
#include "dataplane/resilience/outlier_detector.h"

#include <algorithm>
#include <limits>

namespace hermes::dataplane::resilience {
namespace {

int64_t Ns(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void Clear(std::atomic<uint32_t>& counter) {
  // Read first: a success must not write the shared cache line when nothing changes.
  if (counter.load(std::memory_order_relaxed) != 0) counter.store(0, std::memory_order_relaxed);
}

// Counts one failure; true when the counter reached `threshold` (0 = that detector off). The
// counter then starts over, as in Envoy, so that a refused ejection needs a new run to retry.
bool Charge(std::atomic<uint32_t>& counter, uint32_t threshold) {
  const uint32_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  if (threshold == 0 || n < threshold) return false;
  counter.store(0, std::memory_order_relaxed);
  return true;
}

// Envoy: max_ejection_percent of the cluster, but at least one endpoint may always be ejected.
uint32_t MaxEjected(size_t cluster_size, uint32_t max_ejection_percent) {
  const uint64_t percent = std::min<uint32_t>(max_ejection_percent, 100);
  const uint64_t cap = static_cast<uint64_t>(cluster_size) * percent / 100;
  return static_cast<uint32_t>(std::clamp<uint64_t>(cap, 1, std::numeric_limits<uint32_t>::max()));
}

// base x times ejected, capped at max(max_ejection_time, base).
int64_t EjectionNs(const OutlierSettings& s, uint32_t times_ejected) {
  const int64_t base = std::max<int64_t>(s.base_ejection_time.count(), 0);
  const int64_t cap = std::max<int64_t>(s.max_ejection_time.count(), base);
  if (base != 0 && times_ejected > cap / base) return cap;
  return std::min(base * times_ejected, cap);
}

}  // namespace

bool OutlierDetector::OnResult(const OutlierSettings& s, AttemptResult r,
                               OutlierClusterState& cluster, size_t cluster_size, TimePoint now) {
  // Results that come back while the endpoint is out (requests sent before it was ejected) say
  // nothing about the endpoint it returns as.
  if (!s.enabled || phase_.load(std::memory_order_acquire) != kActive) return false;
  bool reached = false;
  switch (r) {
    case AttemptResult::kSuccess:
      ResetCounters();
      return false;
    case AttemptResult::k5xx:
      // Envoy: a 5xx other than 502/503/504 breaks a run of gateway failures. Any response, even
      // an error, breaks a run of local-origin failures: the endpoint answered.
      Clear(consecutive_gateway_);
      Clear(consecutive_local_);
      reached = Charge(consecutive_5xx_, s.consecutive_5xx);
      break;
    case AttemptResult::kGatewayFailure: {
      Clear(consecutive_local_);
      const bool by_5xx = Charge(consecutive_5xx_, s.consecutive_5xx);
      const bool by_gateway = Charge(consecutive_gateway_, s.consecutive_gateway_failure);
      reached = by_5xx || by_gateway;
      break;
    }
    case AttemptResult::kLocalOriginFailure:
      // Kept apart from the 5xx counters (Envoy's split_external_local_origin_errors).
      reached = Charge(consecutive_local_, s.consecutive_local_origin_failure);
      break;
  }
  return reached && Eject(s, cluster, cluster_size, now);
}

bool OutlierDetector::Eject(const OutlierSettings& s, OutlierClusterState& cluster,
                            size_t cluster_size, TimePoint now) {
  uint8_t phase = kActive;
  if (!phase_.compare_exchange_strong(phase, kChanging, std::memory_order_acq_rel)) return false;
  // Reserve a place under the cluster's cap by CAS, so two endpoints cannot both take the last.
  const uint32_t max_ejected = MaxEjected(cluster_size, s.max_ejection_percent);
  uint32_t ejected = cluster.ejected.load(std::memory_order_relaxed);
  do {
    if (ejected >= max_ejected) {
      phase_.store(kActive, std::memory_order_release);
      return false;
    }
  } while (!cluster.ejected.compare_exchange_weak(ejected, ejected + 1, std::memory_order_acq_rel,
                                                  std::memory_order_relaxed));
  forgive_at_ns_.store(std::numeric_limits<int64_t>::max(), std::memory_order_relaxed);
  const uint32_t times = times_ejected_.fetch_add(1, std::memory_order_relaxed) + 1;
  ejected_until_ns_.store(Ns(now) + EjectionNs(s, times), std::memory_order_relaxed);
  base_ejection_ns_.store(std::max<int64_t>(s.base_ejection_time.count(), 0),
                          std::memory_order_relaxed);
  ResetCounters();
  phase_.store(kEjected, std::memory_order_release);
  cluster.epoch.fetch_add(1, std::memory_order_release);
  return true;
}

bool OutlierDetector::ReturnNow(OutlierClusterState& cluster, TimePoint now) {
  if (phase_.load(std::memory_order_acquire) != kEjected) return false;
  ejected_until_ns_.store(Ns(now), std::memory_order_relaxed);
  return Sweep(cluster, now);
}

bool OutlierDetector::Sweep(OutlierClusterState& cluster, TimePoint now) {
  const uint8_t phase = phase_.load(std::memory_order_acquire);
  if (phase == kEjected) {
    if (Ns(now) < ejected_until_ns_.load(std::memory_order_relaxed)) return false;
    // Written while still ejected: OnResult and Eject leave an ejected endpoint alone.
    ResetCounters();
    forgive_at_ns_.store(Ns(now) + base_ejection_ns_.load(std::memory_order_relaxed),
                         std::memory_order_relaxed);
    uint8_t expected = kEjected;
    if (!phase_.compare_exchange_strong(expected, kActive, std::memory_order_acq_rel)) {
      return false;  // another sweep returned it
    }
    cluster.ejected.fetch_sub(1, std::memory_order_acq_rel);
    cluster.epoch.fetch_add(1, std::memory_order_release);
    return true;
  }
  if (phase != kActive || times_ejected_.load(std::memory_order_relaxed) == 0) return false;
  // Forgive one ejection per base ejection time in service. The CAS on forgive_at_ns_ makes one
  // sweeper the forgiver, and fails if an ejection (which parks it at max) came in between.
  int64_t at = forgive_at_ns_.load(std::memory_order_relaxed);
  if (Ns(now) < at ||
      !forgive_at_ns_.compare_exchange_strong(
          at, at + base_ejection_ns_.load(std::memory_order_relaxed), std::memory_order_relaxed)) {
    return false;
  }
  uint32_t times = times_ejected_.load(std::memory_order_relaxed);
  while (times > 0 &&
         !times_ejected_.compare_exchange_weak(times, times - 1, std::memory_order_relaxed)) {
  }
  return false;
}

void OutlierDetector::ResetCounters() {
  Clear(consecutive_5xx_);
  Clear(consecutive_gateway_);
  Clear(consecutive_local_);
}

}  // namespace hermes::dataplane::resilience
