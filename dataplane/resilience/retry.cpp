// Retry decisions (Envoy router semantics), the jittered backoff and the retry budget.
#include "dataplane/resilience/retry.h"

#include <algorithm>

namespace hermes::dataplane::resilience {

uint8_t ParseRetryOn(std::string_view name) {
  if (name == "connect-failure") return kRetryConnectFailure;
  if (name == "reset") return kRetryReset;
  if (name == "timeout") return kRetryTimeout;
  if (name == "5xx") return kRetry5xx;
  if (name == "gateway-error") return kRetryGatewayError;
  if (name == "retriable-status-codes") return kRetryRetriableStatusCodes;
  return 0;
}

bool ShouldRetryFailure(const RetrySettings& s, AttemptFailure f) {
  // Envoy counts an attempt with no response as a 5xx (the proxy answers 502/503/504 for it), so
  // 5xx and gateway-error retry every kind of failure.
  if (s.retry_on & (kRetry5xx | kRetryGatewayError)) return true;
  switch (f) {
    case AttemptFailure::kConnectFailure:
      return (s.retry_on & kRetryConnectFailure) != 0;
    case AttemptFailure::kReset:
      return (s.retry_on & kRetryReset) != 0;
    case AttemptFailure::kTimeout:
      return (s.retry_on & kRetryTimeout) != 0;
  }
  return false;
}

bool ShouldRetryStatus(const RetrySettings& s, unsigned status) {
  if ((s.retry_on & kRetry5xx) && status >= 500 && status <= 599) return true;
  if ((s.retry_on & kRetryGatewayError) && (status == 502 || status == 503 || status == 504)) {
    return true;
  }
  if (s.retry_on & kRetryRetriableStatusCodes) {
    const auto& codes = s.retriable_status_codes;
    return std::find(codes.begin(), codes.end(), status) != codes.end();
  }
  return false;
}

std::chrono::milliseconds Backoff(const RetrySettings& s, uint32_t retry, lb::Random& rng) {
  if (s.implicit) return std::chrono::milliseconds{0};
  const uint64_t base = static_cast<uint64_t>(std::max<int64_t>(s.backoff_base.count(), 0));
  const uint64_t max = static_cast<uint64_t>(std::max<int64_t>(s.backoff_max.count(), 0));
  // base * 2^(retry-1), saturating at max without overflowing.
  const uint32_t doublings = retry > 0 ? retry - 1 : 0;
  uint64_t cap = base;
  for (uint32_t i = 0; i < doublings && cap < max; ++i) cap *= 2;
  cap = std::min(cap, max);
  return std::chrono::milliseconds{static_cast<int64_t>(rng.Below(cap + 1))};
}

bool RetryBudget::TryAcquire(const RetryBudgetSettings& s, int64_t active_requests,
                             uint32_t max_retries) {
  const double percent = std::clamp(s.budget_percent, 0.0, 100.0);
  const auto budget = static_cast<int64_t>(
      percent / 100.0 * static_cast<double>(std::max<int64_t>(active_requests, 0)));
  const int64_t limit = std::min<int64_t>(std::max<int64_t>(s.min_retry_concurrency, budget),
                                          static_cast<int64_t>(max_retries));
  int64_t active = active_.load(std::memory_order_relaxed);
  do {
    if (active >= limit) return false;
  } while (!active_.compare_exchange_weak(active, active + 1, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
  return true;
}

void RetryBudget::Release() { active_.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace hermes::dataplane::resilience
