#include "dataplane/proxy/retry_state.h"

#include <algorithm>

namespace hermes::dataplane::proxy {

RetryState::RetryState(const RetryRoute& route, const RetryRequest& request,
                       const RetryBudgetAccess& budget, lb::Random& random)
    : policy_(*route.policy),
      route_timeout_(route.timeout),
      route_deadline_(route.timeout.count() > 0 ? route.started + route.timeout
                                                : Clock::time_point::max()),
      request_(request),
      budget_(budget),
      random_(random) {}

RetryState::~RetryState() {
  if (budget_slot_) budget_.budget->Release();
}

bool RetryState::Retriable(const TryOutcome& outcome) const {
  if (outcome.failed) {
    return resilience::ShouldRetryFailure(policy_, outcome.failure) &&
           (!outcome.reached || request_.idempotent);
  }
  return !request_.upgrade && resilience::ShouldRetryStatus(policy_, outcome.status) &&
         request_.idempotent;
}

bool RetryState::Replayable(const TryOutcome& outcome) const {
  return !request_.has_body || request_.body_buffered || (outcome.failed && !outcome.body_used);
}

RetryDecision RetryState::Decide(const TryOutcome& outcome, Clock::time_point now) {
  using Verdict = RetryDecision::Verdict;
  if (!Retriable(outcome)) return {Verdict::kNotRetriable};
  if (!Replayable(outcome)) return {Verdict::kNotReplayable};
  if (retries_ >= policy_.num_retries) return {Verdict::kRetriesExhausted};
  if (now >= route_deadline_) return {Verdict::kDeadlinePassed};
  bool needs_slot = !outcome.failed || outcome.reached;
  if (needs_slot && !budget_slot_) {
    budget_slot_ = budget_.budget->TryAcquire(*budget_.settings, budget_.active_requests->value(),
                                              budget_.max_retries);
    if (!budget_slot_) return {Verdict::kBudgetExhausted};
  }
  ++retries_;
  return {Verdict::kRetry, resilience::Backoff(policy_, retries_, random_)};
}

Clock::duration RetryState::TryTimeout(Clock::time_point now) const {
  Clock::duration wait = route_timeout_;
  if (policy_.per_try_timeout.count() > 0 && (wait.count() == 0 || policy_.per_try_timeout < wait))
    wait = policy_.per_try_timeout;
  if (route_deadline_ != Clock::time_point::max())
    wait = std::min<Clock::duration>(
        wait, std::max<Clock::duration>(route_deadline_ - now, std::chrono::milliseconds(1)));
  return wait;
}

}  // namespace hermes::dataplane::proxy
