// RetryState: when a request goes once more (Envoy's retry semantics), how long it waits first and
// how long each try may take. Time is passed in; nothing sleeps.
#include "dataplane/proxy/retry_state.h"

#include <gtest/gtest.h>

#include <optional>

namespace hermes::dataplane::proxy {
namespace {

using namespace std::chrono_literals;
using resilience::AttemptFailure;
using Verdict = RetryDecision::Verdict;

const Clock::time_point kStart = Clock::time_point{} + 1h;

class RetryStateTest : public ::testing::Test {
 protected:
  RetryStateTest() {
    policy_.retry_on = resilience::kRetry5xx;
    policy_.num_retries = 2;
    policy_.backoff_base = 10ms;
    policy_.backoff_max = 100ms;
    budget_settings_.min_retry_concurrency = 1;
    budget_settings_.budget_percent = 0;
  }

  RetryState& Make(RetryRequest request = Idempotent(), Clock::duration route_timeout = 0ms) {
    state_.emplace(RetryRoute{&policy_, route_timeout, kStart}, request,
                   RetryBudgetAccess{&budget_, &budget_settings_, &active_requests_, 3}, random_);
    return *state_;
  }

  static RetryRequest Idempotent() { return {.idempotent = true}; }

  resilience::RetrySettings policy_;
  resilience::RetryBudget budget_;
  resilience::RetryBudgetSettings budget_settings_;
  resilience::BoundedCounter active_requests_;
  lb::Random random_{7};
  std::optional<RetryState> state_;
};

TEST_F(RetryStateTest, RetriesConnectFailureWithinTheBudgetOfTries) {
  RetryState& s = Make();
  auto connect = TryOutcome::Failure(AttemptFailure::kConnectFailure, false, false);
  EXPECT_TRUE(s.Decide(connect, kStart).retry());
  EXPECT_TRUE(s.Decide(connect, kStart).retry());
  EXPECT_EQ(s.Decide(connect, kStart).verdict, Verdict::kRetriesExhausted);
  EXPECT_EQ(s.retries(), 2u);
}

TEST_F(RetryStateTest, RetriesAStatusThePolicyNames) {
  EXPECT_TRUE(Make().Decide(TryOutcome::Response(503), kStart).retry());
}

TEST_F(RetryStateTest, DoesNotRetryAStatusThePolicyDoesNotName) {
  EXPECT_EQ(Make().Decide(TryOutcome::Response(404), kStart).verdict, Verdict::kNotRetriable);
  policy_.retry_on = resilience::kRetryConnectFailure;
  EXPECT_EQ(Make().Decide(TryOutcome::Response(503), kStart).verdict, Verdict::kNotRetriable);
}

TEST_F(RetryStateTest, NonIdempotentRequestIsRetriedOnlyIfItNeverReachedAnUpstream) {
  RetryState& s = Make(RetryRequest{.idempotent = false});
  EXPECT_EQ(s.Decide(TryOutcome::Failure(AttemptFailure::kReset, true, false), kStart).verdict,
            Verdict::kNotRetriable);
  EXPECT_EQ(s.Decide(TryOutcome::Response(503), kStart).verdict, Verdict::kNotRetriable);
  EXPECT_TRUE(
      s.Decide(TryOutcome::Failure(AttemptFailure::kConnectFailure, false, false), kStart).retry());
}

TEST_F(RetryStateTest, DoesNotRetryAfterBodyStreamed) {
  RetryState& s = Make(RetryRequest{.idempotent = true, .has_body = true, .body_buffered = false});
  EXPECT_EQ(s.Decide(TryOutcome::Failure(AttemptFailure::kReset, true, true), kStart).verdict,
            Verdict::kNotReplayable);
  EXPECT_EQ(s.Decide(TryOutcome::Response(503), kStart).verdict, Verdict::kNotReplayable);
}

TEST_F(RetryStateTest, StreamedBodyNotYetSentCanStillBeRetried) {
  RetryState& s = Make(RetryRequest{.idempotent = true, .has_body = true, .body_buffered = false});
  EXPECT_TRUE(
      s.Decide(TryOutcome::Failure(AttemptFailure::kConnectFailure, false, false), kStart).retry());
}

TEST_F(RetryStateTest, BufferedBodyIsReplayedAfterAResponse) {
  RetryState& s = Make(RetryRequest{.idempotent = true, .has_body = true, .body_buffered = true});
  EXPECT_TRUE(s.Decide(TryOutcome::Response(502), kStart).retry());
}

TEST_F(RetryStateTest, UpgradeResponseIsNeverRetried) {
  RetryState& s = Make(RetryRequest{.idempotent = true, .upgrade = true});
  EXPECT_EQ(s.Decide(TryOutcome::Response(503), kStart).verdict, Verdict::kNotRetriable);
}

TEST_F(RetryStateTest, StopsAtRouteDeadline) {
  RetryState& s = Make(Idempotent(), 1s);
  auto reset = TryOutcome::Failure(AttemptFailure::kReset, true, false);
  EXPECT_TRUE(s.Decide(reset, kStart + 999ms).retry());
  EXPECT_EQ(s.Decide(reset, kStart + 1s).verdict, Verdict::kDeadlinePassed);
}

TEST_F(RetryStateTest, BudgetExhaustedIsNoRetry) {
  budget_settings_.min_retry_concurrency = 0;
  EXPECT_EQ(Make().Decide(TryOutcome::Response(503), kStart).verdict, Verdict::kBudgetExhausted);
}

TEST_F(RetryStateTest, FailureThatNeverReachedAnUpstreamTakesNoBudget) {
  budget_settings_.min_retry_concurrency = 0;
  RetryState& s = Make();
  EXPECT_TRUE(
      s.Decide(TryOutcome::Failure(AttemptFailure::kConnectFailure, false, false), kStart).retry());
  EXPECT_EQ(budget_.active(), 0);
}

TEST_F(RetryStateTest, TakesOneBudgetSlotPerRequestAndGivesItBackAtTheEnd) {
  RetryState& s = Make();
  EXPECT_TRUE(s.Decide(TryOutcome::Response(503), kStart).retry());
  EXPECT_TRUE(s.Decide(TryOutcome::Response(503), kStart).retry());
  EXPECT_EQ(budget_.active(), 1);
  state_.reset();
  EXPECT_EQ(budget_.active(), 0);
}

TEST_F(RetryStateTest, BackoffIsJitteredWithinTheDoublingCap) {
  RetryState& s = Make();
  auto first = s.Decide(TryOutcome::Response(503), kStart);
  auto second = s.Decide(TryOutcome::Response(503), kStart);
  EXPECT_LE(first.backoff, 10ms);
  EXPECT_LE(second.backoff, 20ms);
}

TEST_F(RetryStateTest, BackoffComesFromTheInjectedRandomSource) {
  RetryState& a = Make();
  auto drawn = a.Decide(TryOutcome::Response(503), kStart).backoff;
  random_ = lb::Random(7);
  state_.reset();
  EXPECT_EQ(Make().Decide(TryOutcome::Response(503), kStart).backoff, drawn);
}

TEST_F(RetryStateTest, ImplicitPolicyRetriesAtOnce) {
  policy_ = {};
  policy_.implicit = true;
  auto d =
      Make().Decide(TryOutcome::Failure(AttemptFailure::kConnectFailure, false, false), kStart);
  EXPECT_TRUE(d.retry());
  EXPECT_EQ(d.backoff, 0ms);
}

TEST_F(RetryStateTest, TryTimeoutIsThePerTryTimeoutWithinTheRouteTimeout) {
  policy_.per_try_timeout = 200ms;
  EXPECT_EQ(Make(Idempotent(), 1s).TryTimeout(kStart), 200ms);
  policy_.per_try_timeout = 5s;
  EXPECT_EQ(Make(Idempotent(), 1s).TryTimeout(kStart), 1s);
}

TEST_F(RetryStateTest, TryTimeoutNeverRunsPastTheRouteDeadline) {
  policy_.per_try_timeout = 500ms;
  RetryState& s = Make(Idempotent(), 1s);
  EXPECT_EQ(s.TryTimeout(kStart + 800ms), 200ms);
  EXPECT_EQ(s.TryTimeout(kStart + 2s), 1ms);
}

TEST_F(RetryStateTest, NoTimeoutsMeansNoTryLimit) {
  EXPECT_EQ(Make(Idempotent(), 0ms).TryTimeout(kStart), Clock::duration::zero());
  policy_.per_try_timeout = 300ms;
  EXPECT_EQ(Make(Idempotent(), 0ms).TryTimeout(kStart), 300ms);
}

}  // namespace
}  // namespace hermes::dataplane::proxy
