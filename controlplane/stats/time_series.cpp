// TimeSeries: sparse buckets, newest at the back.
#include "controlplane/stats/time_series.h"

#include <algorithm>

namespace hermes::controlplane {

void TimeSeries::Add(std::int64_t index, const Counters& delta) {
  if (delta.empty()) return;
  if (buckets_.empty() || buckets_.back().index < index) {
    buckets_.push_back({index, delta});
    return;
  }
  auto at = std::lower_bound(buckets_.begin(), buckets_.end(), index,
                             [](const Bucket& b, std::int64_t i) { return b.index < i; });
  if (at != buckets_.end() && at->index == index) {
    at->counts += delta;
  } else {
    buckets_.insert(at, {index, delta});
  }
}

Counters TimeSeries::Sum(std::int64_t first, std::int64_t last) const {
  Counters sum;
  for (auto it = buckets_.rbegin(); it != buckets_.rend() && it->index >= first; ++it) {
    if (it->index <= last) sum += it->counts;
  }
  return sum;
}

void TimeSeries::DropBefore(std::int64_t first) {
  while (!buckets_.empty() && buckets_.front().index < first) buckets_.pop_front();
}

}  // namespace hermes::controlplane
