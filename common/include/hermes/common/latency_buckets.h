// The latency histogram's bucket bounds, shared by the proxy (which counts into them) and the
// control plane (which merges the proxies' histograms and reads percentiles from them).
#pragma once

#include <array>
#include <cstdint>

namespace hermes {

// Upper bounds of the buckets, in microseconds (Prometheus `le`, seconds); a last bucket is +Inf.
inline constexpr std::array<uint64_t, 14> kLatencyBucketsUs = {
    500,    1000,   2500,   5000,    10000,   25000,   50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

}  // namespace hermes
