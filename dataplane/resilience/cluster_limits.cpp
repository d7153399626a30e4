// Per-cluster limits: counters that never pass their ceiling, even when workers race.
#include "dataplane/resilience/cluster_limits.h"

namespace hermes::dataplane::resilience {

bool BoundedCounter::TryAcquire(uint32_t limit) {
  int64_t v = v_.load(std::memory_order_relaxed);
  do {
    if (v >= static_cast<int64_t>(limit)) {
      overflows_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (
      !v_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
  return true;
}

void BoundedCounter::Release() { v_.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace hermes::dataplane::resilience
