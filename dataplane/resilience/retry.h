// Retry decisions for one request (Envoy's router semantics): which failures are retried, the
// fully jittered exponential backoff, and the per-cluster retry budget.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/lb/random.h"

namespace hermes::dataplane::resilience {

// retry_on bits.
enum RetryOn : uint8_t {
  kRetryConnectFailure = 1,
  kRetryReset = 2,
  kRetryTimeout = 4,
  kRetry5xx = 8,  // implies connect-failure and reset (Envoy)
  kRetryGatewayError = 16,
  kRetryRetriableStatusCodes = 32,
};

// "connect-failure" -> kRetryConnectFailure ...; 0 for an unknown name.
uint8_t ParseRetryOn(std::string_view name);

struct RetrySettings {
  uint8_t retry_on = kRetryConnectFailure;
  uint32_t num_retries = 1;
  std::chrono::milliseconds per_try_timeout{0};  // 0: the route timeout
  std::vector<uint16_t> retriable_status_codes;
  std::chrono::milliseconds backoff_base{25};
  std::chrono::milliseconds backoff_max{250};
  uint64_t buffer_limit = 1 << 20;
  bool implicit = false;  // no policy written: connect failures only, no backoff
};

// Why an attempt did not give a usable response.
enum class AttemptFailure : uint8_t { kConnectFailure, kReset, kTimeout };

bool ShouldRetryFailure(const RetrySettings& s, AttemptFailure f);
bool ShouldRetryStatus(const RetrySettings& s, unsigned status);

// Full jitter: uniform in [0, min(max, base * 2^(retry-1))], retry counted from 1.
std::chrono::milliseconds Backoff(const RetrySettings& s, uint32_t retry, lb::Random& rng);

struct RetryBudgetSettings {
  double budget_percent = 20.0;
  uint32_t min_retry_concurrency = 3;
};

// Active retries may not exceed max(min_retry_concurrency, budget_percent% of active requests).
class RetryBudget {
 public:
  // Reserves a retry slot; false when over the budget (or over max_retries, the cluster limit).
  bool TryAcquire(const RetryBudgetSettings& s, int64_t active_requests, uint32_t max_retries);
  void Release();
  int64_t active() const { return active_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> active_{0};
};

}  // namespace hermes::dataplane::resilience
