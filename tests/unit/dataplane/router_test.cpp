// Router: which endpoints a request tries, in what order, what each endpoint's breaker and outlier
// detection hear of it, when it goes again and what the client is told. A scripted connector
// stands for the upstream side; time is a manual clock that only the script moves.
#include "dataplane/proxy/router.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "dataplane/config/config_applier.h"
#include "dataplane/lb/load_balancer.h"
#include "hermes/common/config.h"

namespace hermes::dataplane::proxy {
namespace {

using namespace std::chrono_literals;
using resilience::AttemptFailure;
using Kind = RouterResult::Kind;

class ManualMonotonicClock final : public MonotonicClock {
 public:
  Clock::time_point Now() const override { return now_; }
  void Advance(Clock::duration d) { now_ += d; }

 private:
  Clock::time_point now_ = Clock::time_point{} + 1h;
};

// Answers each try from a script per endpoint address (200 once the script runs out) and
// records what the router asked of it.
class ScriptedConnector final : public UpstreamConnector {
 public:
  explicit ScriptedConnector(ManualMonotonicClock& clock) : clock_(clock) {}

  struct Step {
    TryReport report;
    Clock::duration takes{0};  // how long the try takes, on the manual clock
  };
  void Script(const std::string& address, std::vector<Step> steps) {
    for (auto& s : steps) script_[address].push_back(s);
  }

  Task<TryReport> Try(const Endpoint& ep, const RetryState& retry) override {
    tried.push_back(ep.address);
    try_timeouts.push_back(retry.TryTimeout(clock_.Now()));
    Step step{TryReport::Response(200)};
    if (auto it = script_.find(ep.address); it != script_.end() && !it->second.empty()) {
      step = it->second.front();
      it->second.pop_front();
    }
    clock_.Advance(step.takes);
    co_return step.report;
  }
  void Abandon() override { ++abandoned; }
  Task<void> Backoff(std::chrono::milliseconds wait) override {
    backoffs.push_back(wait);
    clock_.Advance(wait);
    co_return;
  }

  std::vector<std::string> tried;
  std::vector<Clock::duration> try_timeouts;
  std::vector<std::chrono::milliseconds> backoffs;
  int abandoned = 0;

 private:
  ManualMonotonicClock& clock_;
  std::map<std::string, std::deque<Step>> script_;
};

TryReport Status(unsigned status) { return TryReport::Response(status); }
TryReport ConnectFailed() {
  return TryReport::Failed(AttemptFailure::kConnectFailure, false, false, 502, "upstream connect failed");
}
TryReport TimedOut() {
  return TryReport::Failed(AttemptFailure::kTimeout, true, false, 504, "upstream response timeout");
}

const char* const kA = "127.0.0.1:1001";
const char* const kB = "127.0.0.1:1002";
const char* const kC = "127.0.0.1:1003";

class RouterTest : public ::testing::Test {
 protected:
  // One cluster "web" of three endpoints (A, B, C) with `cluster_extra` lines, and one route to
  // it with `route_extra` inside its flow map.
  void Configure(const std::string& cluster_extra, const std::string& route_extra = "") {
    std::string yaml = std::string("clusters:\n  - name: web\n    endpoints: [ {address: \"") + kA +
                       "\"}, {address: \"" + kB + "\"}, {address: \"" + kC + "\"} ]\n" +
                       "    health_check: { enabled: false }\n" + cluster_extra +
                       "routes:\n  - { name: all, match: { prefix: / }, cluster: web" +
                       (route_extra.empty() ? "" : ", " + route_extra) + " }\n";
    auto loaded = config::LoadConfigString(yaml);
    for (const auto& e : loaded.errors) ADD_FAILURE() << e.ToString();
    auto result = applier_.ApplyConfig(loaded.config, hosts_);
    for (const auto& e : result.errors) ADD_FAILURE() << e;
    snapshot_ = result.snapshot;
    ASSERT_TRUE(snapshot_);
    route_ = &snapshot_->routes.front();
  }

  const Cluster& cluster() const { return *route_->cluster; }
  const Endpoint& endpoint(size_t i) const { return cluster().endpoints[i]; }
  const TrafficShard& cluster_stats() const { return cluster().stats->shards[0]; }
  RouterRequest Request() const { return {clock_.Now(), {.idempotent = true}, std::nullopt, std::nullopt}; }

  // Forward() to its end (the connector never waits, so one run of the loop does it).
  RouterResult Forward(Router& router, const RouterRequest& request) {
    asio::io_context io;
    std::optional<RouterResult> out;
    asio::co_spawn(io, Drive(&router, request, &connector_, &out), asio::detached);
    io.run();
    EXPECT_TRUE(out.has_value());
    return out.value_or(RouterResult{});
  }
  RouterResult Forward(const RouterRequest& request) {
    Router router(*route_, 0, random_, clock_);
    return Forward(router, request);
  }
  RouterResult Forward() { return Forward(Request()); }

  static Task<void> Drive(Router* router, RouterRequest request, UpstreamConnector* connector,
                          std::optional<RouterResult>* out) {
    *out = co_await router->Forward(request, *connector);
  }

  StatsStore stats_{1};
  EndpointStateRegistry registry_{1};
  ConfigApplier applier_{stats_, registry_};
  ResolvedHosts hosts_;
  SnapshotPtr snapshot_;
  const Route* route_ = nullptr;
  ManualMonotonicClock clock_;
  lb::Random random_{11};
  ScriptedConnector connector_{clock_};
};

TEST_F(RouterTest, AnAnsweredTryIsTheResponse) {
  Configure("");
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kResponse);
  ASSERT_NE(r.endpoint, nullptr);
  EXPECT_EQ(r.endpoint->address, kA) << "round robin starts at the first endpoint";
  EXPECT_EQ(connector_.tried, std::vector<std::string>{kA});
  EXPECT_FALSE(r.pin) << "no sticky sessions configured";
  EXPECT_EQ(cluster_stats().upstream_retries.Get(), 0u);
}

TEST_F(RouterTest, AFiveHundredTheRetryPolicyNamesGoesToAnotherEndpointAfterItsBackoff) {
  Configure("    circuit_breaker: { enabled: false }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 1, backoff_base_interval: 40ms }");
  connector_.Script(kA, {{Status(503)}});
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kResponse);
  EXPECT_EQ(r.endpoint->address, kB);
  EXPECT_EQ(connector_.tried, (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(connector_.abandoned, 1) << "the 503's connection and response are dropped";
  ASSERT_LE(connector_.backoffs.size(), 1u) << "a backoff of 0 (full jitter) is not waited";
  for (auto wait : connector_.backoffs) EXPECT_LE(wait, 40ms) << "jittered in [0, base]";
  EXPECT_EQ(cluster_stats().upstream_retries.Get(), 1u);
}

TEST_F(RouterTest, TheLastTrysResponseIsStreamedWhenRetriesAreExhausted) {
  Configure("    circuit_breaker: { enabled: false }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 1, backoff_base_interval: 1ms }");
  connector_.Script(kA, {{Status(503)}});
  connector_.Script(kB, {{Status(500)}});
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kResponse) << "the upstream's own 500 goes to the client";
  EXPECT_EQ(r.endpoint->address, kB);
  EXPECT_EQ(connector_.tried.size(), 2u);
}

TEST_F(RouterTest, AConnectFailureWithNoPolicyIsRetriedOnceWithoutBackoff) {
  Configure("    circuit_breaker: { enabled: false }\n");
  connector_.Script(kA, {{ConnectFailed()}});
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kResponse);
  EXPECT_EQ(r.endpoint->address, kB);
  EXPECT_TRUE(connector_.backoffs.empty()) << "the implicit policy does not wait";
}

TEST_F(RouterTest, AFailureNotRetriedIsAnsweredWithItsOwnStatusAndReason) {
  Configure("    circuit_breaker: { enabled: false }\n", "retry_policy: { retry_on: [5xx], num_retries: 0 }");
  connector_.Script(kA, {{ConnectFailed()}});
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kLocalReply);
  EXPECT_EQ(r.status, 502u);
  EXPECT_EQ(r.reason, "upstream connect failed");
  ASSERT_NE(r.endpoint, nullptr) << "the endpoint's stats count the 502";
  EXPECT_EQ(r.endpoint->address, kA);
  EXPECT_FALSE(r.overloaded);
}

TEST_F(RouterTest, AResponseTimeoutCountsAsATimeoutOfTheClusterAndTheEndpoint) {
  Configure("    circuit_breaker: { enabled: false }\n", "retry_policy: { retry_on: [5xx], num_retries: 0 }");
  connector_.Script(kA, {{TimedOut()}});
  RouterResult r = Forward();
  EXPECT_EQ(r.status, 504u);
  EXPECT_EQ(cluster_stats().upstream_timeouts.Get(), 1u);
  EXPECT_EQ(endpoint(0).state->shard(0)->timeouts.Get(), 1u);
}

TEST_F(RouterTest, AStreamedBodyIsNotSentTwice) {
  Configure("    circuit_breaker: { enabled: false }\n",
            "retry_policy: { retry_on: [reset, 5xx], num_retries: 3, backoff_base_interval: 1ms }");
  connector_.Script(kA, {{TryReport::Failed(AttemptFailure::kReset, true, true, 502, "upstream write failed")}});
  RouterRequest request = Request();
  request.retry = {.idempotent = true, .has_body = true, .body_buffered = false};
  RouterResult r = Forward(request);
  EXPECT_EQ(r.kind, Kind::kLocalReply);
  EXPECT_EQ(r.status, 502u);
  EXPECT_EQ(connector_.tried.size(), 1u);
}

TEST_F(RouterTest, EachTryWaitsNoLongerThanWhatIsLeftOfTheRouteTimeout) {
  Configure("    circuit_breaker: { enabled: false }\n",
            "timeout: 1s, retry_policy: { retry_on: [5xx], num_retries: 2, backoff_base_interval: 1ms, "
            "per_try_timeout: 700ms }");
  connector_.Script(kA, {{Status(503), 600ms}});
  connector_.Script(kB, {{Status(503), 450ms}});
  RouterResult r = Forward();
  ASSERT_EQ(connector_.try_timeouts.size(), 2u) << "the third try would start past the deadline";
  EXPECT_EQ(connector_.try_timeouts[0], 700ms) << "per_try_timeout, within the route timeout";
  EXPECT_LE(connector_.try_timeouts[1], 400ms) << "what the first try and its backoff left";
  EXPECT_GE(connector_.try_timeouts[1], 398ms);
  EXPECT_EQ(r.kind, Kind::kResponse) << "the deadline passed: the last 503 is the answer";
  EXPECT_EQ(r.endpoint->address, kB);
}

TEST_F(RouterTest, AnOpenBreakerIsSkippedAndCounted) {
  Configure("    circuit_breaker: { failure_threshold: 1, success_threshold: 1, timeout: 30s }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 0 }");
  connector_.Script(kA, {{Status(500)}});
  EXPECT_EQ(Forward().endpoint->address, kA);  // opens A's breaker
  RouterRequest pinned_to_a = Request();
  pinned_to_a.pinned = 0;
  RouterResult r = Forward(pinned_to_a);
  EXPECT_EQ(r.kind, Kind::kResponse);
  EXPECT_NE(r.endpoint->address, kA);
  EXPECT_EQ(connector_.tried.size(), 2u) << "A was never tried the second time";
  EXPECT_EQ(cluster_stats().breaker_rejections.Get(), 1u);
  EXPECT_EQ(endpoint(0).state->shard(0)->breaker_rejections.Get(), 1u);
}

TEST_F(RouterTest, EveryBreakerOpenIsA503WithoutATry) {
  Configure("    circuit_breaker: { failure_threshold: 1, success_threshold: 1, timeout: 30s }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 0 }");
  for (const char* address : {kA, kB, kC}) connector_.Script(address, {{Status(500)}});
  for (int i = 0; i < 3; ++i) Forward();
  connector_.tried.clear();
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kLocalReply);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.reason, "every endpoint's circuit breaker is open");
  EXPECT_EQ(r.endpoint, nullptr);
  EXPECT_TRUE(connector_.tried.empty());
  clock_.Advance(31s);
  EXPECT_EQ(Forward().kind, Kind::kResponse) << "after the breaker's timeout a probe goes through";
}

TEST_F(RouterTest, WithNoEndpointAvailableEveryOneIsACandidate) {
  Configure("");
  for (size_t i = 0; i < 3; ++i) endpoint(i).state->healthy = false;
  cluster().state->availability_epoch.fetch_add(1);
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kResponse) << "Envoy's panic mode: the balancer spreads over all";
  EXPECT_EQ(connector_.tried.size(), 1u);
}

TEST_F(RouterTest, AClusterWithoutEndpointsIsA503) {
  // A config cannot say so (validation wants an endpoint); a cluster can still come to none.
  Cluster empty;
  empty.name = "empty";
  empty.state = std::make_shared<ClusterState>();
  TrafficStats stats("empty", 1);
  empty.stats = &stats;
  empty.balancers.push_back(lb::MakeLoadBalancer(empty, 1));
  Route route;
  route.cluster = &empty;
  route.stats = &stats;
  Router router(route, 0, random_, clock_);
  RouterResult r = Forward(router, Request());
  EXPECT_EQ(r.kind, Kind::kLocalReply);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.reason, "no endpoints in cluster");
  EXPECT_EQ(r.endpoint, nullptr);
  EXPECT_TRUE(connector_.tried.empty());
}

TEST_F(RouterTest, MaxRequestsRefusesTheRequestOverTheLimitUntilTheFirstEnds) {
  Configure("    limits: { max_requests: 1 }\n");
  auto first = std::make_unique<Router>(*route_, 0, random_, clock_);
  EXPECT_EQ(Forward(*first, Request()).kind, Kind::kResponse);
  EXPECT_EQ(cluster_stats().active_requests.Get(), 1) << "held while the response streams";
  RouterResult refused = Forward();
  EXPECT_EQ(refused.kind, Kind::kLocalReply);
  EXPECT_EQ(refused.status, 503u);
  EXPECT_TRUE(refused.overloaded);
  EXPECT_EQ(cluster_stats().upstream_overflow.Get(), 1u);
  first.reset();
  EXPECT_EQ(cluster_stats().active_requests.Get(), 0);
  EXPECT_EQ(Forward().kind, Kind::kResponse);
}

TEST_F(RouterTest, ATryRefusedByAClusterLimitIsTheClustersOverloadNotTheEndpoints) {
  Configure("    circuit_breaker: { failure_threshold: 1 }\n");
  connector_.Script(kA, {{TryReport::Overloaded("cluster max_connections reached")}});
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kLocalReply);
  EXPECT_TRUE(r.overloaded);
  EXPECT_EQ(r.reason, "cluster max_connections reached");
  EXPECT_EQ(r.endpoint, nullptr);
  EXPECT_EQ(cluster_stats().upstream_overflow.Get(), 1u);
  connector_.tried.clear();
  RouterRequest pinned_to_a = Request();
  pinned_to_a.pinned = 0;
  EXPECT_EQ(Forward(pinned_to_a).endpoint->address, kA) << "A's breaker heard nothing";
}

TEST_F(RouterTest, AClientGoneEndsTheRequestWithNothingToAnswer) {
  Configure("", "retry_policy: { retry_on: [5xx], num_retries: 3 }");
  connector_.Script(kA, {{TryReport::ClientGone()}});
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kClientGone);
  EXPECT_EQ(r.endpoint->address, kA);
  EXPECT_EQ(connector_.tried.size(), 1u);
}

TEST_F(RouterTest, AStickyPinIsFollowedAndAnUnpinnedClientIsPinned) {
  Configure("    sticky_session: { cookie: { name: s } }\n");
  RouterRequest pinned_to_c = Request();
  pinned_to_c.pinned = 2;
  RouterResult r = Forward(pinned_to_c);
  EXPECT_EQ(r.endpoint->address, kC);
  EXPECT_FALSE(r.pin) << "already pinned there";
  RouterResult unpinned = Forward();
  EXPECT_TRUE(unpinned.pin);
}

TEST_F(RouterTest, APinnedEndpointThatFailsHandsTheRetryToAnother) {
  Configure("    circuit_breaker: { enabled: false }\n    sticky_session: { cookie: { name: s } }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 1, backoff_base_interval: 1ms }");
  connector_.Script(kC, {{Status(503)}});
  RouterRequest pinned_to_c = Request();
  pinned_to_c.pinned = 2;
  RouterResult r = Forward(pinned_to_c);
  EXPECT_NE(r.endpoint->address, kC);
  EXPECT_TRUE(r.pin) << "the client is pinned to the endpoint that answered";
}

TEST_F(RouterTest, TheSameHashKeyReachesTheSameEndpoint) {
  Configure("    lb_policy: ring_hash\n    hash_policy: [ { header: x-user } ]\n");
  RouterRequest request = Request();
  request.hash = 0x1234567890abcdefULL;
  std::string first = Forward(request).endpoint->address;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Forward(request).endpoint->address, first);
}

TEST_F(RouterTest, ConsecutiveGatewayErrorsEjectTheEndpoint) {
  Configure("    circuit_breaker: { enabled: false }\n"
            "    outlier_detection: { consecutive_5xx: 2, base_ejection_time: 30s, max_ejection_percent: 100 }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 0 }");
  RouterRequest pinned_to_a = Request();
  pinned_to_a.pinned = 0;
  connector_.Script(kA, {{Status(502)}, {Status(503)}});
  Forward(pinned_to_a);
  EXPECT_TRUE(Available(*endpoint(0).state));
  Forward(pinned_to_a);
  EXPECT_FALSE(Available(*endpoint(0).state)) << "two consecutive 5xx";
  EXPECT_NE(Forward(pinned_to_a).endpoint->address, kA) << "an ejected pin is not followed";
}

TEST_F(RouterTest, ARetryTheBudgetHasNoRoomForIsCountedAndNotMade) {
  Configure("    circuit_breaker: { enabled: false }\n"
            "    limits: { max_retries: 0 }\n"
            "    retry_budget: { min_retry_concurrency: 0, budget_percent: 0 }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 2, backoff_base_interval: 1ms }");
  connector_.Script(kA, {{Status(503)}});
  RouterResult r = Forward();
  EXPECT_EQ(r.kind, Kind::kResponse);
  EXPECT_EQ(r.endpoint->address, kA);
  EXPECT_EQ(cluster_stats().upstream_retry_overflow.Get(), 1u);
  EXPECT_EQ(cluster_stats().upstream_retries.Get(), 0u);
}

TEST_F(RouterTest, ARetryNeverPicksAnEndpointThisRequestTriedWhileAnotherIsLeft) {
  Configure("    circuit_breaker: { enabled: false }\n",
            "retry_policy: { retry_on: [5xx], num_retries: 2, backoff_base_interval: 1ms }");
  for (const char* address : {kA, kB, kC}) connector_.Script(address, {{Status(503)}});
  Forward();
  std::vector<std::string> tried = connector_.tried;
  ASSERT_EQ(tried.size(), 3u);
  std::sort(tried.begin(), tried.end());
  EXPECT_EQ(tried, (std::vector<std::string>{kA, kB, kC}));
}

}  // namespace
}  // namespace hermes::dataplane::proxy
