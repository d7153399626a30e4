// One scope's traffic counts (a route, cluster or endpoint) as plain numbers, read from a pushed
// v1::TrafficCounters with its latency histogram re-bucketed onto the control plane's bounds.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/store/store_result.h"
#include "hermes/common/latency_buckets.h"
#include "hermes/v1/stats.pb.h"

namespace hermes::controlplane {

// Upper bounds of the latency buckets, in microseconds: the proxies' own (one header), so a
// proxy's histogram maps bucket for bucket. A proxy with other bounds (another build) has each of
// its buckets counted in the first of these whose bound is at least its own (an approximation
// only such a proxy pays).
inline constexpr const auto& kLatencyBoundsUs = hermes::kLatencyBucketsUs;
inline constexpr std::size_t kLatencyBuckets = kLatencyBoundsUs.size() + 1;  // the last is +Inf

inline constexpr std::size_t kStatusClasses = 6;  // [0] no response sent, [1..5] 1xx..5xx

struct Counters {
  std::array<std::uint64_t, kStatusClasses> responses{};
  std::uint64_t connect_errors = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t retries = 0;
  std::uint64_t retry_overflow = 0;
  std::uint64_t overflow = 0;
  std::uint64_t breaker_rejections = 0;
  std::uint64_t latency_sum_us = 0;
  std::array<std::uint64_t, kLatencyBuckets> latency{};  // each bucket's own count, not cumulative

  std::uint64_t requests() const;  // every status class
  std::uint64_t errors() const;    // 5xx and no response sent
  bool empty() const;              // every count is 0

  Counters& operator+=(const Counters& other);
  // True when no count is below `earlier`'s: these can be a later state of the same counters.
  bool Covers(const Counters& earlier) const;
  // The counts since `earlier`; requires Covers(earlier).
  Counters Since(const Counters& earlier) const;

  // The q-quantile (0 < q <= 1) of the latency in milliseconds, interpolated linearly inside its
  // bucket (from the previous bound, 0 for the first); the +Inf bucket gives the largest finite
  // bound. 0 when there are no latency counts.
  double LatencyQuantileMs(double q) const;

  friend bool operator==(const Counters&, const Counters&) = default;
};

// Maps a report's latency buckets onto kLatencyBoundsUs; one per report, as every scope of a
// report shares its bounds.
class LatencyMapping {
 public:
  // Checks that `bounds_us` rise strictly; the error says what is wrong.
  static Result<LatencyMapping> For(
      const google::protobuf::RepeatedField<std::uint64_t>& bounds_us);

  // Reads `counters`; `where` names the scope in errors ("routes[2] (\"api\")").
  Result<Counters> Read(const v1::TrafficCounters& counters, const std::string& where) const;

 private:
  std::vector<std::size_t> to_bucket_;  // report bucket index -> kLatencyBoundsUs bucket index
};

// `counters` as a proto, for a report whose latency_bounds_us are kLatencyBoundsUs.
v1::TrafficCounters ToProto(const Counters& counters);

}  // namespace hermes::controlplane
