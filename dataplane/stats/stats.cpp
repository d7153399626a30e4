#include "dataplane/stats/stats.h"

#include <algorithm>

namespace hermes::dataplane {

namespace {

template <class Shard>
void RecordResponse(Shard& shard, unsigned status, std::chrono::microseconds latency) {
  shard.responses_by_class[status >= 100 && status < 600 ? status / 100 : 0].Add();
  auto us = static_cast<uint64_t>(latency.count());
  auto it = std::lower_bound(kLatencyBucketsUs.begin(), kLatencyBucketsUs.end(), us);
  shard.latency_buckets[static_cast<size_t>(it - kLatencyBucketsUs.begin())].Add();
  shard.latency_sum_us.Add(us);
}

}  // namespace

void TrafficShard::Record(unsigned status, std::chrono::microseconds latency) {
  RecordResponse(*this, status, latency);
}

void EndpointShard::Record(unsigned status, std::chrono::microseconds latency) {
  RecordResponse(*this, status, latency);
}

void EndpointTotals::Add(const EndpointShard& shard) {
  for (size_t i = 0; i < responses_by_class.size(); ++i)
    responses_by_class[i] += shard.responses_by_class[i].Get();
  for (size_t i = 0; i < latency_buckets.size(); ++i)
    latency_buckets[i] += shard.latency_buckets[i].Get();
  latency_sum_us += shard.latency_sum_us.Get();
  connect_errors += shard.connect_errors.Get();
  timeouts += shard.timeouts.Get();
  breaker_rejections += shard.breaker_rejections.Get();
}

void EndpointTotals::Add(const EndpointTotals& other) {
  for (size_t i = 0; i < responses_by_class.size(); ++i)
    responses_by_class[i] += other.responses_by_class[i];
  for (size_t i = 0; i < latency_buckets.size(); ++i)
    latency_buckets[i] += other.latency_buckets[i];
  latency_sum_us += other.latency_sum_us;
  connect_errors += other.connect_errors;
  timeouts += other.timeouts;
  breaker_rejections += other.breaker_rejections;
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
