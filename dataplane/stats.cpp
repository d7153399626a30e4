#include "dataplane/stats.h"

#include <algorithm>

namespace hermes::dataplane {

void TrafficShard::Record(unsigned status, std::chrono::microseconds latency) {
  responses_by_class[status >= 100 && status < 600 ? status / 100 : 0].Add();
  auto us = static_cast<uint64_t>(latency.count());
  auto it = std::lower_bound(kLatencyBucketsUs.begin(), kLatencyBucketsUs.end(), us);
  latency_buckets[static_cast<size_t>(it - kLatencyBucketsUs.begin())].Add();
  latency_sum_us.Add(us);
}

TrafficStats* StatsStore::Get(Map& m, const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = m[name];
  if (!slot) slot = std::make_unique<TrafficStats>(name, workers_);
  return slot.get();
}

ListenerStats* StatsStore::Listener(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = listeners_[name];
  if (!slot) slot = std::make_unique<ListenerStats>(name, workers_);
  return slot.get();
}

}  // namespace hermes::dataplane
