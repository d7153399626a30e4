#include "dataplane/proxy/router.h"

#include <algorithm>

#include "dataplane/lb/load_balancer.h"

namespace hermes::dataplane::proxy {
namespace {

resilience::FailureKind BreakerKind(resilience::AttemptFailure f) {
  switch (f) {
    case resilience::AttemptFailure::kConnectFailure:
      return resilience::FailureKind::kConnectFailure;
    case resilience::AttemptFailure::kReset:
      return resilience::FailureKind::kReset;
    case resilience::AttemptFailure::kTimeout:
      return resilience::FailureKind::kTimeout;
  }
  return resilience::FailureKind::kReset;
}

resilience::AttemptResult OutlierResult(unsigned status) {
  if (status == 502 || status == 503 || status == 504) return resilience::AttemptResult::kGatewayFailure;
  if (status >= 500) return resilience::AttemptResult::k5xx;
  return resilience::AttemptResult::kSuccess;
}

RouterResult LocalReply(unsigned status, std::string_view reason, const Endpoint* endpoint = nullptr) {
  RouterResult r;
  r.kind = RouterResult::Kind::kLocalReply;
  r.status = status;
  r.reason = reason;
  r.endpoint = endpoint;
  return r;
}

RouterResult OverloadedReply(std::string_view reason) {
  RouterResult r = LocalReply(503, reason);
  r.overloaded = true;
  return r;
}

}  // namespace

Router::Router(const Route& route, unsigned worker, lb::Random& random, const MonotonicClock& clock)
    : route_(route),
      cluster_(*route.cluster),
      worker_(worker),
      random_(random),
      clock_(clock),
      route_shard_(route.stats->shards[worker]),
      cluster_shard_(route.cluster->stats->shards[worker]) {}

Router::~Router() {
  if (!admitted_) return;
  cluster_.state->limits.requests.Release();
  route_shard_.active_requests.Add(-1);
  cluster_shard_.active_requests.Add(-1);
}

bool Router::Tried(size_t index) const {
  return std::find(tried_.begin(), tried_.end(), static_cast<uint32_t>(index)) != tried_.end();
}

std::optional<size_t> Router::Pick(const RouterRequest& request) {
  if (request.pinned && *request.pinned < cluster_.endpoints.size() &&
      Available(*cluster_.endpoints[*request.pinned].state) && !Tried(*request.pinned))
    return request.pinned;
  return cluster_.balancers[worker_]->Pick({request.hash, tried()});
}

void Router::Judge(const Endpoint& ep, resilience::Admission admission, const TryReport& report,
                   Clock::time_point now) {
  resilience::AttemptResult result;
  if (report.kind == TryReport::Kind::kFailed) {
    if (report.outcome.failure == resilience::AttemptFailure::kTimeout) {
      if (EndpointShard* shard = ep.state->shard(worker_)) shard->timeouts.Add();
    }
    ep.state->breaker.OnFailure(cluster_.breaker, admission, BreakerKind(report.outcome.failure), now);
    result = resilience::AttemptResult::kLocalOriginFailure;
  } else {
    unsigned status = report.outcome.status;
    if (status >= 500) {
      ep.state->breaker.OnFailure(cluster_.breaker, admission, resilience::FailureKind::k5xx, now);
    } else {
      ep.state->breaker.OnSuccess(cluster_.breaker, admission, now);
    }
    result = OutlierResult(status);
  }
  if (!cluster_.outlier.enabled) return;
  ClusterState& cs = *cluster_.state;
  if (ep.state->outlier.OnResult(cluster_.outlier, result, cs.outlier, cluster_.endpoints.size(), now))
    cs.availability_epoch.fetch_add(1, std::memory_order_release);
}

Task<RouterResult> Router::Forward(const RouterRequest& request, UpstreamConnector& connector) {
  ClusterState& cs = *cluster_.state;
  if (!cs.limits.requests.TryAcquire(cluster_.limits.max_requests)) {
    cluster_shard_.upstream_overflow.Add();
    co_return OverloadedReply("cluster max_requests reached");
  }
  admitted_ = true;
  route_shard_.active_requests.Add(1);
  cluster_shard_.active_requests.Add(1);

  RetryState retry({&route_.retry, route_.timeout, request.started}, request.retry,
                   {&cs.retries, &cluster_.retry_budget, &cs.limits.requests, cluster_.limits.max_retries},
                   random_);
  size_t breaker_skips = 0;
  for (;;) {
    std::optional<size_t> pick = Pick(request);
    if (!pick) co_return LocalReply(503, "no endpoints in cluster");
    const Endpoint& ep = cluster_.endpoints[*pick];
    tried_.push_back(static_cast<uint32_t>(*pick));
    resilience::Admission admission = ep.state->breaker.TryAdmit(cluster_.breaker, clock_.Now());
    if (admission == resilience::Admission::kRejected) {
      // Its breaker is open: another endpoint is tried (the original Hermes answered 502 here).
      cluster_shard_.breaker_rejections.Add();
      if (EndpointShard* shard = ep.state->shard(worker_)) shard->breaker_rejections.Add();
      if (++breaker_skips >= cluster_.endpoints.size())
        co_return LocalReply(503, "every endpoint's circuit breaker is open");
      continue;
    }

    TryReport report = co_await connector.Try(ep, retry);
    Clock::time_point now = clock_.Now();
    if (report.kind == TryReport::Kind::kClientGone) {
      ep.state->breaker.Release(admission);
      RouterResult gone;
      gone.kind = RouterResult::Kind::kClientGone;
      gone.endpoint = &ep;
      co_return gone;
    }
    if (report.kind == TryReport::Kind::kOverloaded) {
      // Refused before the endpoint was tried: the 503 is the cluster's, not the endpoint's.
      ep.state->breaker.Release(admission);
      cluster_shard_.upstream_overflow.Add();
      co_return OverloadedReply(report.reason);
    }
    Judge(ep, admission, report, now);

    RetryDecision decision = retry.Decide(report.outcome, now);
    if (decision.verdict == RetryDecision::Verdict::kBudgetExhausted)
      cluster_shard_.upstream_retry_overflow.Add();
    if (decision.retry()) {
      cluster_shard_.upstream_retries.Add();
      connector.Abandon();
      if (decision.backoff.count() > 0) co_await connector.Backoff(decision.backoff);
      continue;
    }
    if (report.kind == TryReport::Kind::kFailed) {
      if (report.outcome.failure == resilience::AttemptFailure::kTimeout)
        cluster_shard_.upstream_timeouts.Add();
      co_return LocalReply(report.status, report.reason, &ep);
    }
    RouterResult response;
    response.kind = RouterResult::Kind::kResponse;
    response.endpoint = &ep;
    response.pin = cluster_.sticky.kind != StickySettings::Kind::kNone &&
                   (!request.pinned || *request.pinned != *pick);
    co_return response;
  }
}

}  // namespace hermes::dataplane::proxy
