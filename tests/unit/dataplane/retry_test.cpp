// Retry decisions (Envoy's retry_on semantics), the fully jittered exponential backoff and the
// per-cluster retry budget.
#include "dataplane/resilience/retry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace hermes::dataplane::resilience {
namespace {

using namespace std::chrono_literals;

RetrySettings On(uint8_t retry_on) {
  RetrySettings s;
  s.retry_on = retry_on;
  return s;
}

TEST(RetryOnTest, ParsesEveryPolicyName) {
  EXPECT_EQ(ParseRetryOn("connect-failure"), kRetryConnectFailure);
  EXPECT_EQ(ParseRetryOn("reset"), kRetryReset);
  EXPECT_EQ(ParseRetryOn("timeout"), kRetryTimeout);
  EXPECT_EQ(ParseRetryOn("5xx"), kRetry5xx);
  EXPECT_EQ(ParseRetryOn("gateway-error"), kRetryGatewayError);
  EXPECT_EQ(ParseRetryOn("retriable-status-codes"), kRetryRetriableStatusCodes);
}

TEST(RetryOnTest, UnknownNameParsesAsZero) {
  EXPECT_EQ(ParseRetryOn("refused-stream"), 0);
  EXPECT_EQ(ParseRetryOn("5XX"), 0);
  EXPECT_EQ(ParseRetryOn(""), 0);
}

TEST(RetryFailureTest, ConnectFailureIsRetriedUnderConnectFailure5xxAndGatewayError) {
  EXPECT_TRUE(ShouldRetryFailure(On(kRetryConnectFailure), AttemptFailure::kConnectFailure));
  EXPECT_TRUE(ShouldRetryFailure(On(kRetry5xx), AttemptFailure::kConnectFailure));
  EXPECT_TRUE(ShouldRetryFailure(On(kRetryGatewayError), AttemptFailure::kConnectFailure));
  EXPECT_FALSE(ShouldRetryFailure(On(kRetryReset), AttemptFailure::kConnectFailure));
  EXPECT_FALSE(ShouldRetryFailure(On(kRetryTimeout), AttemptFailure::kConnectFailure));
}

TEST(RetryFailureTest, ResetIsRetriedUnderReset5xxAndGatewayError) {
  EXPECT_TRUE(ShouldRetryFailure(On(kRetryReset), AttemptFailure::kReset));
  EXPECT_TRUE(ShouldRetryFailure(On(kRetry5xx), AttemptFailure::kReset));
  EXPECT_TRUE(ShouldRetryFailure(On(kRetryGatewayError), AttemptFailure::kReset));
  EXPECT_FALSE(ShouldRetryFailure(On(kRetryConnectFailure), AttemptFailure::kReset));
  EXPECT_FALSE(ShouldRetryFailure(On(kRetryTimeout), AttemptFailure::kReset));
}

TEST(RetryFailureTest, TimeoutIsRetriedUnderTimeout5xxAndGatewayError) {
  EXPECT_TRUE(ShouldRetryFailure(On(kRetryTimeout), AttemptFailure::kTimeout));
  EXPECT_TRUE(ShouldRetryFailure(On(kRetry5xx), AttemptFailure::kTimeout));
  EXPECT_TRUE(ShouldRetryFailure(On(kRetryGatewayError), AttemptFailure::kTimeout));
  EXPECT_FALSE(ShouldRetryFailure(On(kRetryConnectFailure), AttemptFailure::kTimeout));
  EXPECT_FALSE(ShouldRetryFailure(On(kRetryReset), AttemptFailure::kTimeout));
}

TEST(RetryFailureTest, StatusPoliciesAloneRetryNoFailure) {
  const RetrySettings s = On(kRetryRetriableStatusCodes);
  EXPECT_FALSE(ShouldRetryFailure(s, AttemptFailure::kConnectFailure));
  EXPECT_FALSE(ShouldRetryFailure(s, AttemptFailure::kReset));
  EXPECT_FALSE(ShouldRetryFailure(s, AttemptFailure::kTimeout));
}

TEST(RetryFailureTest, ImplicitPolicyRetriesConnectFailuresOnly) {
  RetrySettings s;
  s.implicit = true;
  EXPECT_TRUE(ShouldRetryFailure(s, AttemptFailure::kConnectFailure));
  EXPECT_FALSE(ShouldRetryFailure(s, AttemptFailure::kReset));
  EXPECT_FALSE(ShouldRetryFailure(s, AttemptFailure::kTimeout));
  EXPECT_FALSE(ShouldRetryStatus(s, 503));
}

TEST(RetryStatusTest, FiveXxRetriesEveryServerError) {
  const RetrySettings s = On(kRetry5xx);
  for (unsigned status : {500u, 501u, 502u, 503u, 504u, 505u, 599u}) {
    EXPECT_TRUE(ShouldRetryStatus(s, status)) << status;
  }
  for (unsigned status : {200u, 404u, 499u, 600u}) EXPECT_FALSE(ShouldRetryStatus(s, status));
}

TEST(RetryStatusTest, GatewayErrorRetries502503504Only) {
  const RetrySettings s = On(kRetryGatewayError);
  for (unsigned status : {502u, 503u, 504u}) EXPECT_TRUE(ShouldRetryStatus(s, status));
  for (unsigned status : {500u, 501u, 505u, 429u}) EXPECT_FALSE(ShouldRetryStatus(s, status));
}

TEST(RetryStatusTest, RetriableStatusCodesRetriesTheListedCodes) {
  RetrySettings s = On(kRetryRetriableStatusCodes);
  s.retriable_status_codes = {409, 429};
  EXPECT_TRUE(ShouldRetryStatus(s, 409));
  EXPECT_TRUE(ShouldRetryStatus(s, 429));
  EXPECT_FALSE(ShouldRetryStatus(s, 503));
}

TEST(RetryStatusTest, ListedCodesNeedTheRetriableStatusCodesPolicy) {
  RetrySettings s = On(kRetryConnectFailure);
  s.retriable_status_codes = {429};
  EXPECT_FALSE(ShouldRetryStatus(s, 429));
}

TEST(RetryStatusTest, CombinedPoliciesRetryTheUnion) {
  RetrySettings s = On(kRetryGatewayError | kRetryRetriableStatusCodes);
  s.retriable_status_codes = {429};
  EXPECT_TRUE(ShouldRetryStatus(s, 503));
  EXPECT_TRUE(ShouldRetryStatus(s, 429));
  EXPECT_FALSE(ShouldRetryStatus(s, 500));
}

class BackoffTest : public ::testing::Test {
 protected:
  // Smallest and largest of many draws for `retry`.
  std::pair<std::chrono::milliseconds, std::chrono::milliseconds> Range(uint32_t retry) {
    auto lo = std::chrono::milliseconds::max();
    auto hi = std::chrono::milliseconds::min();
    for (int i = 0; i < 20000; ++i) {
      const auto d = Backoff(s_, retry, rng_);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    return {lo, hi};
  }

  RetrySettings s_;  // base 25ms, max 250ms
  lb::Random rng_{42};
};

TEST_F(BackoffTest, DrawsCoverZeroToBaseOnFirstRetry) {
  EXPECT_EQ(Range(1), std::make_pair(0ms, 25ms));
}

TEST_F(BackoffTest, CapDoublesWithEachRetryUpToMax) {
  EXPECT_EQ(Range(2).second, 50ms);
  EXPECT_EQ(Range(3).second, 100ms);
  EXPECT_EQ(Range(4).second, 200ms);
  EXPECT_EQ(Range(5).second, 250ms);
  EXPECT_EQ(Range(6).second, 250ms);
}

TEST_F(BackoffTest, DrawsStayWithinZeroAndCap) {
  for (uint32_t retry = 1; retry <= 8; ++retry) {
    const auto [lo, hi] = Range(retry);
    EXPECT_GE(lo, 0ms);
    EXPECT_LE(hi, std::min(25ms * (1 << (retry - 1)), 250ms));
  }
}

TEST_F(BackoffTest, ImplicitRetryHasNoBackoff) {
  s_.implicit = true;
  EXPECT_EQ(Range(3), std::make_pair(0ms, 0ms));
}

TEST_F(BackoffTest, HugeRetryNumberDoesNotOverflow) {
  s_.backoff_max = std::chrono::milliseconds::max();
  const auto [lo, hi] = Range(1000);
  EXPECT_GE(lo, 0ms);
  EXPECT_GT(hi, 0ms);
}

TEST_F(BackoffTest, ZeroBaseHasNoBackoff) {
  s_.backoff_base = 0ms;
  EXPECT_EQ(Range(4), std::make_pair(0ms, 0ms));
}

class RetryBudgetTest : public ::testing::Test {
 protected:
  // Acquires until refused; returns how many were granted.
  int Fill(int64_t active_requests, uint32_t max_retries) {
    int n = 0;
    while (n < 10000 && budget_.TryAcquire(s_, active_requests, max_retries)) ++n;
    return n;
  }

  RetryBudgetSettings s_;  // 20%, at least 3
  RetryBudget budget_;
};

TEST_F(RetryBudgetTest, FewRequestsStillGetMinRetryConcurrency) {
  EXPECT_EQ(Fill(1, 100), 3);
  EXPECT_EQ(budget_.active(), 3);
}

TEST_F(RetryBudgetTest, BudgetIsAPercentOfActiveRequests) { EXPECT_EQ(Fill(100, 1000), 20); }

TEST_F(RetryBudgetTest, MaxRetriesCapsTheBudget) { EXPECT_EQ(Fill(1000, 5), 5); }

TEST_F(RetryBudgetTest, ZeroMaxRetriesAllowsNone) { EXPECT_EQ(Fill(1000, 0), 0); }

TEST_F(RetryBudgetTest, ReleaseReturnsASlot) {
  ASSERT_EQ(Fill(1, 100), 3);
  budget_.Release();
  EXPECT_EQ(budget_.active(), 2);
  EXPECT_TRUE(budget_.TryAcquire(s_, 1, 100));
  EXPECT_FALSE(budget_.TryAcquire(s_, 1, 100));
}

TEST_F(RetryBudgetTest, ConcurrentAcquirersNeverExceedTheBudget) {
  std::atomic<int64_t> most{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (!budget_.TryAcquire(s_, 50, 100)) continue;  // budget 10
        const int64_t n = budget_.active();
        int64_t seen = most.load();
        while (n > seen && !most.compare_exchange_weak(seen, n)) {
        }
        std::this_thread::yield();  // hold the slot a while, so that others contend for it
        budget_.Release();
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_LE(most.load(), 10);
  EXPECT_EQ(budget_.active(), 0);
}

}  // namespace
}  // namespace hermes::dataplane::resilience
