// Counters: reading pushed counters, arithmetic, latency quantiles.
#include "controlplane/stats/traffic_counters.h"

#include <algorithm>

namespace hermes::controlplane {
namespace {

// Calls f(a's count, b's count) for each count, so that arithmetic is written once.
template <typename A, typename B, typename F>
void EachCount(A& a, B& b, F&& f) {
  for (std::size_t i = 0; i < kStatusClasses; ++i) f(a.responses[i], b.responses[i]);
  f(a.connect_errors, b.connect_errors);
  f(a.timeouts, b.timeouts);
  f(a.retries, b.retries);
  f(a.retry_overflow, b.retry_overflow);
  f(a.overflow, b.overflow);
  f(a.breaker_rejections, b.breaker_rejections);
  f(a.latency_sum_us, b.latency_sum_us);
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) f(a.latency[i], b.latency[i]);
}

StoreError Invalid(std::string message) {
  return {StoreErrorKind::kInvalidArgument, std::move(message)};
}

}  // namespace

std::uint64_t Counters::requests() const {
  std::uint64_t n = 0;
  for (std::uint64_t r : responses) n += r;
  return n;
}

std::uint64_t Counters::errors() const { return responses[0] + responses[5]; }

bool Counters::empty() const { return *this == Counters{}; }

Counters& Counters::operator+=(const Counters& other) {
  EachCount(*this, other, [](std::uint64_t& a, const std::uint64_t& b) { a += b; });
  return *this;
}

bool Counters::Covers(const Counters& earlier) const {
  bool covers = true;
  EachCount(*this, earlier,
            [&](const std::uint64_t& a, const std::uint64_t& b) { covers = covers && a >= b; });
  return covers;
}

Counters Counters::Since(const Counters& earlier) const {
  Counters delta = *this;
  EachCount(delta, earlier, [](std::uint64_t& a, const std::uint64_t& b) { a -= b; });
  return delta;
}

double Counters::LatencyQuantileMs(double q) const {
  std::uint64_t total = 0;
  for (std::uint64_t n : latency) total += n;
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  double below = 0;  // requests in the buckets before i
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    if (latency[i] == 0) continue;
    const double in_bucket = static_cast<double>(latency[i]);
    if (below + in_bucket >= rank) {
      if (i == kLatencyBoundsUs.size()) return static_cast<double>(kLatencyBoundsUs.back()) / 1000;
      const double lower = i == 0 ? 0 : static_cast<double>(kLatencyBoundsUs[i - 1]);
      const double upper = static_cast<double>(kLatencyBoundsUs[i]);
      const double share = std::clamp((rank - below) / in_bucket, 0.0, 1.0);
      return (lower + (upper - lower) * share) / 1000;
    }
    below += in_bucket;
  }
  return static_cast<double>(kLatencyBoundsUs.back()) / 1000;
}

Result<LatencyMapping> LatencyMapping::For(
    const google::protobuf::RepeatedField<std::uint64_t>& bounds_us) {
  LatencyMapping mapping;
  for (int i = 0; i < bounds_us.size(); ++i) {
    if (i > 0 && bounds_us[i] <= bounds_us[i - 1]) {
      return Invalid("latency_bounds_us must rise strictly; [" + std::to_string(i) + "] = " +
                     std::to_string(bounds_us[i]) + " follows " + std::to_string(bounds_us[i - 1]));
    }
    const auto* at =
        std::lower_bound(kLatencyBoundsUs.begin(), kLatencyBoundsUs.end(), bounds_us[i]);
    mapping.to_bucket_.push_back(static_cast<std::size_t>(at - kLatencyBoundsUs.begin()));
  }
  mapping.to_bucket_.push_back(kLatencyBoundsUs.size());  // +Inf
  return mapping;
}

Result<Counters> LatencyMapping::Read(const v1::TrafficCounters& in,
                                      const std::string& where) const {
  Counters c;
  if (in.responses_by_class_size() > static_cast<int>(kStatusClasses)) {
    return Invalid(where + ": responses_by_class has " +
                   std::to_string(in.responses_by_class_size()) + " entries, at most " +
                   std::to_string(kStatusClasses));
  }
  for (int i = 0; i < in.responses_by_class_size(); ++i) {
    c.responses[static_cast<std::size_t>(i)] = in.responses_by_class(i);
  }
  if (in.latency_buckets_size() != 0 &&
      static_cast<std::size_t>(in.latency_buckets_size()) != to_bucket_.size()) {
    return Invalid(where + ": latency_buckets has " + std::to_string(in.latency_buckets_size()) +
                   " entries; expected " + std::to_string(to_bucket_.size()) +
                   " (latency_bounds_us and +Inf) or none");
  }
  for (int i = 0; i < in.latency_buckets_size(); ++i) {
    c.latency[to_bucket_[static_cast<std::size_t>(i)]] += in.latency_buckets(i);
  }
  c.connect_errors = in.connect_errors();
  c.timeouts = in.timeouts();
  c.retries = in.retries();
  c.retry_overflow = in.retry_overflow();
  c.overflow = in.overflow();
  c.breaker_rejections = in.breaker_rejections();
  c.latency_sum_us = in.latency_sum_us();
  return c;
}

v1::TrafficCounters ToProto(const Counters& c) {
  v1::TrafficCounters out;
  for (std::uint64_t n : c.responses) out.add_responses_by_class(n);
  out.set_connect_errors(c.connect_errors);
  out.set_timeouts(c.timeouts);
  out.set_retries(c.retries);
  out.set_retry_overflow(c.retry_overflow);
  out.set_overflow(c.overflow);
  out.set_breaker_rejections(c.breaker_rejections);
  out.set_latency_sum_us(c.latency_sum_us);
  for (std::uint64_t n : c.latency) out.add_latency_buckets(n);
  return out;
}

}  // namespace hermes::controlplane
