// Whether a request goes once more after a try (Envoy's RetryStateImpl::shouldRetry): the route's
// retry policy, whether the request can be sent again whole, the route deadline, the cluster's
// retry budget and the jittered backoff. A pure object: time and randomness are passed in, and
// Decide() returns the decision instead of acting on it.
#pragma once

#include <chrono>
#include <cstdint>

#include "dataplane/lb/random.h"
#include "dataplane/resilience/cluster_limits.h"
#include "dataplane/resilience/retry.h"

namespace hermes::dataplane::proxy {

using Clock = std::chrono::steady_clock;

// What one try on one endpoint came to.
struct TryOutcome {
  static TryOutcome Failure(resilience::AttemptFailure kind, bool reached, bool body_used) {
    return {true, kind, reached, body_used, 0};
  }
  static TryOutcome Response(unsigned status) {
    return {false, resilience::AttemptFailure::kReset, true, false, status};
  }
  bool failed = false;  // no usable response head
  resilience::AttemptFailure failure = resilience::AttemptFailure::kReset;
  bool reached = false;    // request bytes may have reached the upstream
  bool body_used = false;  // client body bytes were streamed: this try cannot be repeated
  unsigned status = 0;     // the response's status (!failed)
};

// The request, as far as retries care.
struct RetryRequest {
  bool idempotent = false;  // RFC 9110 9.2.2: safe to send twice after it reached an upstream
  bool has_body = false;
  bool body_buffered = false;  // the whole body is kept, so every try can send it again
  bool upgrade = false;        // a protocol switch was asked for: responses are never retried
};

// The route's side of retries.
struct RetryRoute {
  const resilience::RetrySettings* policy = nullptr;
  Clock::duration timeout{0};   // the route timeout; 0: none
  Clock::time_point started{};  // when the request's head was read
};

// The cluster's retry budget and the counter of its active requests the budget is a share of.
struct RetryBudgetAccess {
  resilience::RetryBudget* budget = nullptr;
  const resilience::RetryBudgetSettings* settings = nullptr;
  const resilience::BoundedCounter* active_requests = nullptr;
  uint32_t max_retries = 0;  // the cluster's max_retries limit
};

struct RetryDecision {
  enum class Verdict : uint8_t {
    kRetry,
    kNotRetriable,      // the policy does not retry this failure or status
    kNotReplayable,     // the body was streamed and is not kept
    kRetriesExhausted,  // num_retries reached
    kDeadlinePassed,    // the route timeout is over
    kBudgetExhausted,   // the cluster's retry budget (or max_retries) has no slot left
  };
  Verdict verdict = Verdict::kNotRetriable;
  std::chrono::milliseconds backoff{0};  // kRetry: wait this long before the next try
  bool retry() const { return verdict == Verdict::kRetry; }
};

class RetryState {
 public:
  RetryState(const RetryRoute& route, const RetryRequest& request, const RetryBudgetAccess& budget,
             lb::Random& random);
  ~RetryState();  // gives back the budget slot, if one was taken
  RetryState(const RetryState&) = delete;
  RetryState& operator=(const RetryState&) = delete;

  // The decision after a try. A retry of a request that reached an upstream takes one slot of
  // the cluster's retry budget, once per request (kept until the request ends); a request that
  // never reached one adds no load elsewhere and needs none.
  RetryDecision Decide(const TryOutcome& outcome, Clock::time_point now);

  // How long the next try may wait for its response head: the per-try timeout within the route
  // timeout, never past the route deadline (at least 1 ms); zero for no limit.
  Clock::duration TryTimeout(Clock::time_point now) const;

  Clock::time_point route_deadline() const { return route_deadline_; }
  uint32_t retries() const { return retries_; }

 private:
  bool Retriable(const TryOutcome& outcome) const;
  bool Replayable(const TryOutcome& outcome) const;

  const resilience::RetrySettings& policy_;
  Clock::duration route_timeout_;
  Clock::time_point route_deadline_;
  RetryRequest request_;
  RetryBudgetAccess budget_;
  lb::Random& random_;
  uint32_t retries_ = 0;
  bool budget_slot_ = false;
};

}  // namespace hermes::dataplane::proxy
