// The counts of one scope over time, in buckets one report interval wide, kept only where there
// was traffic. Memory: a bucket is 232 bytes (sizeof(Counters) + its index), so an hour of 10 s
// buckets with traffic in every one costs about 84 KB per series, plus about 600 bytes for an
// empty one; the aggregator drops a series once it holds no bucket.
#pragma once

#include <cstdint>
#include <deque>

#include "controlplane/stats/traffic_counters.h"

namespace hermes::controlplane {

class TimeSeries {
 public:
  // Adds `delta` to the bucket `index` (the time divided by the bucket width). Indexes normally
  // only grow; an older one (the wall clock stepped back) still lands in its own bucket.
  void Add(std::int64_t index, const Counters& delta);

  // The sum of the buckets from `first` to `last`, both included.
  Counters Sum(std::int64_t first, std::int64_t last) const;

  // Drops the buckets before `first`.
  void DropBefore(std::int64_t first);

  bool empty() const { return buckets_.empty(); }

 private:
  struct Bucket {
    std::int64_t index = 0;
    Counters counts;
  };
  std::deque<Bucket> buckets_;  // by index, ascending
};

}  // namespace hermes::controlplane
