// BuildStatsReport: the cumulative counters a proxy reports (proto/hermes/v1/stats.proto), summed
// over the shards of every worker, with each endpoint's gauges (active requests, breaker state,
// ejection, health) as of the time given; and endpoint counters that never go down in a run.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "dataplane/discovery/stats_reporter.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/stats/stats.h"
#include "hermes/common/config.h"

namespace hermes::dataplane {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr unsigned kWorkers = 3;

// Cluster "up" with endpoints a:1 and b:2, a breaker that opens after 2 failures for 10 s,
// outlier detection that ejects after 2 connect failures.
constexpr const char* kYaml =
    "listeners:\n"
    "  - { name: main, address: \"127.0.0.1:0\" }\n"
    "clusters:\n"
    "  - name: up\n"
    "    circuit_breaker: { failure_threshold: 2, timeout: 10s }\n"
    "    outlier_detection: { consecutive_local_origin_failure: 2, max_ejection_percent: 100 }\n"
    "    endpoints: [ { address: \"a:1\" }, { address: \"b:2\" } ]\n"
    "routes:\n"
    "  - { name: api, match: { prefix: /api }, cluster: up }\n"
    "  - { name: rest, cluster: up }\n";

const char* kEndpointsLine = "    endpoints: [ { address: \"a:1\" }, { address: \"b:2\" } ]\n";

class StatsReportTest : public ::testing::Test {
 protected:
  SnapshotPtr Compile(const std::string& yaml = kYaml) {
    auto loaded = config::LoadConfigString(yaml);
    for (const auto& e : loaded.errors) ADD_FAILURE() << e.ToString();
    return CompileSnapshot(loaded.config, ResolvedHosts{}, ++generation_, stats_, registry_);
  }

  static const v1::ScopeStats* Scope(const google::protobuf::RepeatedPtrField<v1::ScopeStats>& all,
                                     const std::string& name) {
    for (const auto& s : all) {
      if (s.name() == name) return &s;
    }
    return nullptr;
  }

  static const v1::EndpointStats* FindEndpoint(const v1::StatsReport& report,
                                               const std::string& address) {
    for (const auto& e : report.endpoints()) {
      if (e.cluster() == "up" && e.address() == address) return &e;
    }
    return nullptr;
  }

  static EndpointState& State(const SnapshotPtr& snap, size_t endpoint) {
    return *snap->clusters.front()->endpoints[endpoint].state;
  }

  StatsStore stats_{kWorkers};
  EndpointStateRegistry registry_{kWorkers};
  uint64_t generation_ = 0;
  SteadyClock::time_point now_ = SteadyClock::time_point() + 1000s;
};

TEST_F(StatsReportTest, RouteAndClusterCountsAreSummedOverEveryWorker) {
  auto snap = Compile();
  TrafficStats* route = stats_.Route("api");
  route->shards[0].Record(200, 300us);  // bucket <= 500us
  route->shards[1].Record(204, 700us);  // bucket <= 1ms
  route->shards[2].Record(503, 20s);    // +Inf
  route->shards[2].Record(0, 2ms);      // no response sent
  route->shards[1].active_requests.Add(2);
  TrafficStats* cluster = stats_.Cluster("up");
  cluster->shards[0].upstream_connect_errors.Add(2);
  cluster->shards[2].upstream_connect_errors.Add(1);
  cluster->shards[1].upstream_timeouts.Add(4);
  cluster->shards[0].upstream_retries.Add(5);
  cluster->shards[2].upstream_retry_overflow.Add(6);
  cluster->shards[1].upstream_overflow.Add(7);
  cluster->shards[0].breaker_rejections.Add(8);
  cluster->shards[2].breaker_rejections.Add(1);

  v1::StatsReport report = BuildStatsReport(stats_, snap.get(), now_);

  const v1::ScopeStats* api = Scope(report.routes(), "api");
  ASSERT_NE(api, nullptr);
  const auto& c = api->counters();
  ASSERT_EQ(c.responses_by_class_size(), 6);
  EXPECT_EQ(c.responses_by_class(0), 1u);
  EXPECT_EQ(c.responses_by_class(2), 2u);
  EXPECT_EQ(c.responses_by_class(5), 1u);
  ASSERT_EQ(c.latency_buckets_size(), static_cast<int>(kLatencyBucketsUs.size() + 1));
  EXPECT_EQ(c.latency_buckets(0), 1u);
  EXPECT_EQ(c.latency_buckets(1), 1u);
  EXPECT_EQ(c.latency_buckets(2), 1u);  // 2 ms: (1 ms, 2.5 ms]
  EXPECT_EQ(c.latency_buckets(static_cast<int>(kLatencyBucketsUs.size())), 1u);
  EXPECT_EQ(c.latency_sum_us(), 300u + 700u + 20000000u + 2000u);
  EXPECT_EQ(api->active_requests(), 2);

  const v1::ScopeStats* up = Scope(report.clusters(), "up");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->counters().connect_errors(), 3u);
  EXPECT_EQ(up->counters().timeouts(), 4u);
  EXPECT_EQ(up->counters().retries(), 5u);
  EXPECT_EQ(up->counters().retry_overflow(), 6u);
  EXPECT_EQ(up->counters().overflow(), 7u);
  EXPECT_EQ(up->counters().breaker_rejections(), 9u);

  const v1::ScopeStats* rest = Scope(report.routes(), "rest");
  ASSERT_NE(rest, nullptr);  // counted nothing yet, still reported with zeros
  EXPECT_EQ(rest->counters().responses_by_class_size(), 6);
  EXPECT_EQ(rest->counters().responses_by_class(2), 0u);
}

TEST_F(StatsReportTest, LatencyBoundsAreTheHistogramBuckets) {
  auto snap = Compile();
  v1::StatsReport report = BuildStatsReport(stats_, snap.get(), now_);
  ASSERT_EQ(report.latency_bounds_us_size(), static_cast<int>(kLatencyBucketsUs.size()));
  for (size_t i = 0; i < kLatencyBucketsUs.size(); ++i)
    EXPECT_EQ(report.latency_bounds_us(static_cast<int>(i)), kLatencyBucketsUs[i]);
}

TEST_F(StatsReportTest, EndpointCountsAreSummedOverEveryWorker) {
  auto snap = Compile();
  EndpointState& a = State(snap, 0);
  ASSERT_EQ(a.shards.size(), kWorkers);
  a.shard(0)->Record(200, 400us);
  a.shard(1)->Record(200, 400us);
  a.shard(2)->Record(502, 3ms);
  a.shard(0)->connect_errors.Add(2);
  a.shard(2)->connect_errors.Add(1);
  a.shard(1)->timeouts.Add(1);
  a.shard(2)->breaker_rejections.Add(4);

  v1::StatsReport report = BuildStatsReport(stats_, snap.get(), now_);

  const v1::EndpointStats* ea = FindEndpoint(report, "a:1");
  ASSERT_NE(ea, nullptr);
  const auto& c = ea->counters();
  ASSERT_EQ(c.responses_by_class_size(), 6);
  EXPECT_EQ(c.responses_by_class(2), 2u);
  EXPECT_EQ(c.responses_by_class(5), 1u);
  EXPECT_EQ(c.latency_buckets(0), 2u);
  EXPECT_EQ(c.latency_buckets(3), 1u);  // 3 ms: (2.5 ms, 5 ms]
  EXPECT_EQ(c.latency_sum_us(), 3800u);
  EXPECT_EQ(c.connect_errors(), 3u);
  EXPECT_EQ(c.timeouts(), 1u);
  EXPECT_EQ(c.breaker_rejections(), 4u);

  const v1::EndpointStats* eb = FindEndpoint(report, "b:2");
  ASSERT_NE(eb, nullptr);
  EXPECT_EQ(eb->counters().responses_by_class(2), 0u);
  EXPECT_EQ(eb->counters().connect_errors(), 0u);
}

TEST_F(StatsReportTest, EndpointGaugesAreReportedAsTheyAreNow) {
  auto snap = Compile();
  const Cluster& cluster = *snap->clusters.front();
  EndpointState& a = State(snap, 0);
  EndpointState& b = State(snap, 1);
  a.active_requests.store(3);
  b.healthy.store(false);
  for (int i = 0; i < 2; ++i) {
    a.outlier.OnResult(cluster.outlier, resilience::AttemptResult::kLocalOriginFailure,
                       cluster.state->outlier, cluster.endpoints.size(), now_);
  }
  ASSERT_TRUE(a.outlier.ejected());

  v1::StatsReport report = BuildStatsReport(stats_, snap.get(), now_);

  const v1::EndpointStats* ea = FindEndpoint(report, "a:1");
  const v1::EndpointStats* eb = FindEndpoint(report, "b:2");
  ASSERT_NE(ea, nullptr);
  ASSERT_NE(eb, nullptr);
  EXPECT_EQ(ea->active_requests(), 3);
  EXPECT_TRUE(ea->ejected());
  EXPECT_EQ(ea->times_ejected(), 1u);
  EXPECT_TRUE(ea->healthy());
  EXPECT_EQ(eb->active_requests(), 0);
  EXPECT_FALSE(eb->ejected());
  EXPECT_EQ(eb->times_ejected(), 0u);
  EXPECT_FALSE(eb->healthy());
}

TEST_F(StatsReportTest, BreakerStatesMapToCircuitStates) {
  auto snap = Compile();
  const Cluster& cluster = *snap->clusters.front();
  EndpointState& a = State(snap, 0);
  for (int i = 0; i < 2; ++i) {
    auto admission = a.breaker.TryAdmit(cluster.breaker, now_);
    a.breaker.OnFailure(cluster.breaker, admission, resilience::FailureKind::k5xx, now_);
  }

  v1::StatsReport open = BuildStatsReport(stats_, snap.get(), now_ + 1s);
  ASSERT_NE(FindEndpoint(open, "a:1"), nullptr);
  EXPECT_EQ(FindEndpoint(open, "a:1")->circuit(), v1::OPEN);
  EXPECT_EQ(FindEndpoint(open, "b:2")->circuit(), v1::CLOSED);

  // The breaker's timeout (10 s) has passed: it lets a probe through, so it reads HALF_OPEN.
  v1::StatsReport half_open = BuildStatsReport(stats_, snap.get(), now_ + 11s);
  EXPECT_EQ(FindEndpoint(half_open, "a:1")->circuit(), v1::HALF_OPEN);
}

TEST_F(StatsReportTest, ListenerCountsAreSummedOverEveryWorker) {
  auto snap = Compile();
  ListenerStats* main = stats_.Listener("main");
  main->shards[0].connections_accepted.Add(2);
  main->shards[2].connections_accepted.Add(1);
  main->shards[1].requests.Add(10);
  main->shards[2].requests.Add(5);
  main->shards[0].rejected_requests.Add(1);
  main->shards[1].active_connections.Add(2);
  main->shards[2].active_connections.Add(1);

  v1::StatsReport report = BuildStatsReport(stats_, snap.get(), now_);

  ASSERT_EQ(report.listeners_size(), 1);
  const auto& l = report.listeners(0);
  EXPECT_EQ(l.name(), "main");
  EXPECT_EQ(l.connections_accepted(), 3u);
  EXPECT_EQ(l.requests(), 15u);
  EXPECT_EQ(l.rejected_requests(), 1u);
  EXPECT_EQ(l.active_connections(), 3);
}

TEST_F(StatsReportTest, WithoutASnapshotThereAreNoEndpoints) {
  auto snap = Compile();
  stats_.Route("api")->shards[0].Record(200, 1ms);
  v1::StatsReport report = BuildStatsReport(stats_, nullptr, now_);
  EXPECT_EQ(report.endpoints_size(), 0);
  ASSERT_NE(Scope(report.routes(), "api"), nullptr);
  EXPECT_EQ(Scope(report.routes(), "api")->counters().responses_by_class(2), 1u);
}

TEST_F(StatsReportTest, EndpointCountersNeverGoDownWhenAnEndpointLeavesAndComesBack) {
  auto snap = Compile();
  State(snap, 0).shard(1)->Record(200, 1ms);
  State(snap, 0).shard(2)->connect_errors.Add(2);

  // "a:1" leaves the config: its state is pruned once no snapshot holds it.
  std::string without_a = kYaml;
  without_a.replace(without_a.find(kEndpointsLine), std::string(kEndpointsLine).size(),
                    "    endpoints: [ { address: \"b:2\" } ]\n");
  snap = Compile(without_a);
  registry_.Prune();
  EXPECT_EQ(FindEndpoint(BuildStatsReport(stats_, snap.get(), now_), "a:1"), nullptr);

  // It comes back: the run's counts go on from where they were.
  snap = Compile();
  State(snap, 0).shard(0)->Record(200, 1ms);
  v1::StatsReport report = BuildStatsReport(stats_, snap.get(), now_);
  const v1::EndpointStats* ea = FindEndpoint(report, "a:1");
  ASSERT_NE(ea, nullptr);
  EXPECT_EQ(ea->counters().responses_by_class(2), 2u);
  EXPECT_EQ(ea->counters().connect_errors(), 2u);
}

TEST_F(StatsReportTest, OnlyTheNewestRetiredEndpointsKeepTheirCountsBeyondTheCap) {
  EndpointStateRegistry registry(kWorkers, /*max_retired=*/2);
  for (const char* address : {"a:1", "b:2", "c:3"}) {
    registry.Get("up", address)->shard(0)->Record(200, 1ms);
    registry.Prune();  // each one leaves in turn: "a:1" is the longest gone
  }
  EXPECT_EQ(registry.retired(), 2u);

  // "a:1" was forgotten: its counters restart from 0 (the control plane sees a reset).
  EXPECT_EQ(registry.Get("up", "a:1")->Totals().responses_by_class[2], 0u);
  // "b:2" kept its counts, and coming back takes it off the retired list.
  auto b = registry.Get("up", "b:2");
  EXPECT_EQ(b->Totals().responses_by_class[2], 1u);
  EXPECT_EQ(registry.retired(), 1u);
  EXPECT_EQ(registry.Get("up", "b:2"), b);  // one state per (cluster, address)
}

TEST_F(StatsReportTest, EndpointStateHasOneShardPerWorkerOfTheRegistry) {
  auto snap = Compile();
  EndpointState& a = State(snap, 0);
  EXPECT_EQ(a.shards.size(), kWorkers);
  EXPECT_NE(a.shard(kWorkers - 1), nullptr);
  EXPECT_EQ(a.shard(kWorkers), nullptr);  // a worker it was not sized for records nothing
}

}  // namespace
}  // namespace hermes::dataplane
