// StatsAggregator with an injected clock: every request counted exactly once across repeats, lost
// reports, proxy restarts and control-plane restarts (the in-memory stats store), windows, quantiles,
// circuits and gauges, filters.
#include "controlplane/stats/stats_aggregator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "controlplane/store/memory_stores.h"
#include "store_fixture.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

const TimePoint kStart = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 12h;
constexpr auto kInterval = 10s;

// Cumulative counters: `ok` 2xx, `failed` 5xx, latencies all in bucket `latency_bucket`.
v1::TrafficCounters Traffic(std::uint64_t ok, std::uint64_t failed = 0,
                            std::size_t latency_bucket = 2) {
  v1::TrafficCounters c;
  for (std::uint64_t n :
       {std::uint64_t{0}, std::uint64_t{0}, ok, std::uint64_t{0}, std::uint64_t{0}, failed}) {
    c.add_responses_by_class(n);
  }
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    c.add_latency_buckets(i == latency_bucket ? ok + failed : 0);
  }
  return c;
}

v1::StatsReport Report(std::uint64_t run, std::uint64_t sequence) {
  v1::StatsReport r;
  r.mutable_node()->set_id("ignored: the stream's node counts");
  r.set_run_id(run);
  r.set_sequence(sequence);
  r.set_run_started_unix_ms(1714564800000);
  for (std::uint64_t b : kLatencyBoundsUs) r.add_latency_bounds_us(b);
  return r;
}

void AddCluster(v1::StatsReport& r, const std::string& name, const v1::TrafficCounters& c,
                std::int64_t active = 0) {
  v1::ScopeStats& s = *r.add_clusters();
  s.set_name(name);
  *s.mutable_counters() = c;
  s.set_active_requests(active);
}

void AddRoute(v1::StatsReport& r, const std::string& name, const v1::TrafficCounters& c,
              std::int64_t active = 0) {
  v1::ScopeStats& s = *r.add_routes();
  s.set_name(name);
  *s.mutable_counters() = c;
  s.set_active_requests(active);
}

void AddEndpoint(v1::StatsReport& r, const std::string& cluster, const std::string& address,
                 const v1::TrafficCounters& c, v1::CircuitState circuit = v1::CLOSED,
                 bool ejected = false, std::int64_t active = 0) {
  v1::EndpointStats& e = *r.add_endpoints();
  e.set_cluster(cluster);
  e.set_address(address);
  *e.mutable_counters() = c;
  e.set_circuit(circuit);
  e.set_ejected(ejected);
  e.set_active_requests(active);
}

// A report with one cluster "web" (route "web-route") that has served `ok` 2xx so far.
v1::StatsReport WebReport(std::uint64_t run, std::uint64_t sequence, std::uint64_t ok,
                          std::int64_t active = 0) {
  v1::StatsReport r = Report(run, sequence);
  AddCluster(r, "web", Traffic(ok), active);
  AddRoute(r, "web-route", Traffic(ok), active);
  AddEndpoint(r, "web", "10.0.0.1:80", Traffic(ok));
  return r;
}

v1::GetStatsRequest Totals(const std::string& proxy = "", const std::string& cluster = "") {
  v1::GetStatsRequest request;
  request.set_proxy(proxy);
  request.set_cluster(cluster);
  return request;
}

v1::GetStatsRequest Window(std::uint32_t seconds, const std::string& proxy = "",
                           const std::string& cluster = "") {
  v1::GetStatsRequest request = Totals(proxy, cluster);
  request.set_window_seconds(seconds);
  return request;
}

std::map<std::string, std::uint64_t> Requests(
    const google::protobuf::RepeatedPtrField<v1::StatsRow>& rows) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& row : rows) out[row.name()] = row.requests();
  return out;
}

class StatsAggregatorTest : public ::testing::Test {
 protected:
  std::unique_ptr<StatsAggregator> NewAggregator(std::chrono::seconds retention = 1h) {
    return std::make_unique<StatsAggregator>(clock_, kInterval, retention);
  }

  // Ingests and expects the report to be counted (true) or ignored (false).
  void Ingest(const std::string& node, const v1::StatsReport& report, bool counted = true) {
    auto result = stats_->Ingest(node, report);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(*result, counted) << "run " << report.run_id() << " sequence " << report.sequence();
  }

  std::uint64_t TotalRequests(const v1::GetStatsRequest& request = Totals()) const {
    return stats_->Stats(request).total().requests();
  }

  // What a previous process left: the aggregators of a test share it as they would a file.
  static std::unique_ptr<StatsStore> OpenStore() { return std::make_unique<MemoryStatsStore>(); }

  // What StatsService's writer does: commit what changed, then mark it durable.
  static void Persist(StatsAggregator& stats, StatsStore& store) {
    StoredStats batch = stats.TakeUnsaved();
    auto saved = store.SaveStats(batch);
    ASSERT_TRUE(saved.ok()) << saved.error().message;
    stats.MarkSaved(batch);
  }

  ManualClock clock_{kStart};
  std::unique_ptr<StatsAggregator> stats_ = NewAggregator();
};

// ---- Counting exactly once ----

TEST_F(StatsAggregatorTest, TheFirstReportOfARunCountsItsCumulativeCounters) {
  Ingest("p1", WebReport(7, 1, 100));
  v1::GetStatsResponse response = stats_->Stats(Totals());
  EXPECT_EQ(response.window_seconds(), 0u);
  EXPECT_EQ(response.report_interval_ms(), 10000u);
  EXPECT_EQ(response.total().name(), "total");
  EXPECT_EQ(response.total().requests(), 100u);
  EXPECT_EQ(response.total().responses_by_class(2), 100u);
  EXPECT_EQ(Requests(response.clusters()), (std::map<std::string, std::uint64_t>{{"web", 100}}));
  EXPECT_EQ(Requests(response.routes()),
            (std::map<std::string, std::uint64_t>{{"web-route", 100}}));
  EXPECT_EQ(Requests(response.proxies()), (std::map<std::string, std::uint64_t>{{"p1", 100}}));
}

TEST_F(StatsAggregatorTest, ALaterReportCountsOnlyWhatIsNew) {
  Ingest("p1", WebReport(7, 1, 100));
  clock_.Advance(kInterval);
  Ingest("p1", WebReport(7, 2, 250));
  EXPECT_EQ(TotalRequests(), 250u);
  EXPECT_EQ(TotalRequests(Window(10)), 150u);  // the second report's bucket only
  EXPECT_EQ(TotalRequests(Window(60)), 250u);
}

TEST_F(StatsAggregatorTest, ARepeatedOrOlderSequenceIsIgnored) {
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p1", WebReport(7, 2, 250));
  Ingest("p1", WebReport(7, 2, 250), /*counted=*/false);
  Ingest("p1", WebReport(7, 1, 100), /*counted=*/false);
  Ingest("p1", WebReport(7, 2, 999), /*counted=*/false);  // same sequence, whatever it says
  EXPECT_EQ(TotalRequests(), 250u);
  EXPECT_EQ(TotalRequests(Window(60)), 250u);
}

TEST_F(StatsAggregatorTest, ALostReportCostsNothingBecauseTheNextCarriesEverything) {
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p1", WebReport(7, 3, 400));  // 2 never arrived
  EXPECT_EQ(TotalRequests(), 400u);
  EXPECT_EQ(TotalRequests(Window(60)), 400u);
}

TEST_F(StatsAggregatorTest, AProxyRestartIsANewRunAddedToThePreviousRunsCounts) {
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p1", WebReport(7, 2, 250));
  Ingest("p1", WebReport(8, 1, 30));  // the new process counts from 0
  Ingest("p1", WebReport(8, 2, 45));
  EXPECT_EQ(TotalRequests(), 295u);
  EXPECT_EQ(TotalRequests(Window(60)), 295u);
}

TEST_F(StatsAggregatorTest, ProxiesAreSummedAndListedEachWithItsOwnCounts) {
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p2", WebReport(7, 1, 40));  // the same run id on another node is another run
  v1::GetStatsResponse response = stats_->Stats(Totals());
  EXPECT_EQ(response.total().requests(), 140u);
  EXPECT_EQ(Requests(response.proxies()),
            (std::map<std::string, std::uint64_t>{{"p1", 100}, {"p2", 40}}));
}

TEST_F(StatsAggregatorTest, SplitCountsSumsTheNamedProxiesApartFromTheOthersOverTheWindow) {
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p2", WebReport(7, 1, 40));
  Ingest("p3", WebReport(7, 1, 10));
  auto [named, rest] = stats_->SplitCounts(std::chrono::seconds(60), {"p1", "gone"});
  EXPECT_EQ(named.requests(), 100u);
  EXPECT_EQ(rest.requests(), 50u);
  // Out of the window: nothing.
  clock_.Advance(std::chrono::minutes(5));
  auto [later, later_rest] = stats_->SplitCounts(std::chrono::seconds(60), {"p1"});
  EXPECT_EQ(later.requests(), 0u);
  EXPECT_EQ(later_rest.requests(), 0u);
}

TEST_F(StatsAggregatorTest, ACounterResetWithinARunKeepsWhatWasCountedBefore) {
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p1", WebReport(7, 2, 20));  // the proxy restarted this scope's counters
  Ingest("p1", WebReport(7, 3, 50));
  EXPECT_EQ(TotalRequests(), 150u);
  EXPECT_EQ(TotalRequests(Window(60)), 150u);
}

// A proxy that forgot an endpoint's counts (EndpointStateRegistry::kMaxRetired) reports them
// from 0 when the endpoint comes back: a reset, so the earlier counts stay and the new ones add.
TEST_F(StatsAggregatorTest, AnEndpointWhoseCountersRestartKeepsWhatWasCountedBefore) {
  v1::StatsReport first = Report(7, 1);
  AddEndpoint(first, "web", "10.0.0.1:80", Traffic(100));
  Ingest("p1", first);
  v1::StatsReport restarted = Report(7, 2);
  AddEndpoint(restarted, "web", "10.0.0.1:80", Traffic(30));
  Ingest("p1", restarted);
  v1::StatsReport later = Report(7, 3);
  AddEndpoint(later, "web", "10.0.0.1:80", Traffic(45));
  Ingest("p1", later);
  EXPECT_EQ(stats_->Endpoints(60s).at({"web", "10.0.0.1:80"}).rates.requests(), 145u);
}

TEST_F(StatsAggregatorTest, AScopeMissingFromALaterReportKeepsItsCounts) {
  v1::StatsReport first = Report(7, 1);
  AddCluster(first, "web", Traffic(10));
  AddCluster(first, "api", Traffic(5));
  Ingest("p1", first);
  v1::StatsReport second = Report(7, 2);
  AddCluster(second, "web", Traffic(20));
  Ingest("p1", second);
  EXPECT_EQ(Requests(stats_->Stats(Totals()).clusters()),
            (std::map<std::string, std::uint64_t>{{"api", 5}, {"web", 20}}));
}

TEST_F(StatsAggregatorTest, MalformedReportsAreRefusedSayingWhereAndChangeNothing) {
  struct Case {
    const char* what;
    v1::StatsReport report;
    const char* message;
  };
  std::vector<Case> cases;
  {
    v1::StatsReport r = Report(7, 1);
    AddCluster(r, "web", Traffic(10));
    r.mutable_clusters(0)->mutable_counters()->add_latency_buckets(1);
    cases.push_back({"latency size", r, "clusters[0] (\"web\"): latency_buckets has 16 entries"});
  }
  {
    v1::StatsReport r = Report(7, 1);
    AddCluster(r, "web", Traffic(10));
    AddCluster(r, "web", Traffic(10));
    cases.push_back({"duplicate", r, "clusters[1]: \"web\" is listed twice"});
  }
  {
    v1::StatsReport r = Report(7, 1);
    AddRoute(r, "r", Traffic(10));
    r.mutable_routes(0)->mutable_counters()->add_responses_by_class(1);
    cases.push_back({"classes", r, "routes[0] (\"r\"): responses_by_class has 7 entries"});
  }
  {
    v1::StatsReport r = Report(7, 1);
    r.set_latency_bounds_us(3, 1);
    cases.push_back({"bounds", r, "latency_bounds_us must rise strictly"});
  }
  {
    v1::StatsReport r = Report(7, 1);
    AddEndpoint(r, "web", "", Traffic(1));
    cases.push_back({"endpoint", r, "endpoints[0]: cluster and address are required"});
  }
  cases.push_back({"sequence", Report(7, 0), "sequence must be 1 or more"});
  for (const Case& c : cases) {
    auto result = stats_->Ingest("p1", c.report);
    ASSERT_FALSE(result.ok()) << c.what;
    EXPECT_EQ(result.error().kind, StoreErrorKind::kInvalidArgument) << c.what;
    EXPECT_THAT(result.error().message, HasSubstr("stats report from node \"p1\" (run 7"))
        << c.what;
    EXPECT_THAT(result.error().message, HasSubstr(c.message)) << c.what;
  }
  EXPECT_EQ(TotalRequests(), 0u);
  Ingest("p1", WebReport(7, 1, 10));  // the run starts clean
  EXPECT_EQ(TotalRequests(), 10u);
}

TEST_F(StatsAggregatorTest, OutOfRangeSequencesAndStartTimesDoNotBreakAnything) {
  v1::StatsReport huge = WebReport(7, 1, 10);
  huge.set_sequence(static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1);
  auto refused = stats_->Ingest("p1", huge);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("sequence is out of range"));

  v1::StatsReport far = WebReport(7, 1, 10);
  far.set_run_started_unix_ms(std::numeric_limits<std::int64_t>::max());
  Ingest("p1", far);
  StoredStats batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);
  EXPECT_EQ(batch.runs[0].started_at, clock_.Now());  // an impossible start: the arrival time
}

TEST_F(StatsAggregatorTest, AReportArrivingAfterTheClockSteppedBackLandsInItsOwnBucket) {
  clock_.Advance(100s);
  Ingest("p1", WebReport(7, 1, 10));
  clock_.Advance(-60s);
  Ingest("p1", WebReport(7, 2, 30));
  EXPECT_EQ(TotalRequests(Window(10)), 20u);  // the later bucket is not in a window ending now
  clock_.Advance(60s);
  EXPECT_EQ(TotalRequests(Window(10)), 10u);
  EXPECT_EQ(TotalRequests(Window(120)), 30u);
  EXPECT_EQ(TotalRequests(), 30u);
}

TEST_F(StatsAggregatorTest, AHistogramWithOtherBoundsCountsInTheBucketHoldingEachBound) {
  v1::StatsReport r = Report(7, 1);
  r.clear_latency_bounds_us();
  r.add_latency_bounds_us(700);       // -> (500, 1000]
  r.add_latency_bounds_us(99999999);  // beyond the last bound -> +Inf
  v1::TrafficCounters c;
  c.add_responses_by_class(0);
  c.add_responses_by_class(0);
  c.add_responses_by_class(4);
  c.add_latency_buckets(2);
  c.add_latency_buckets(1);
  c.add_latency_buckets(1);
  AddCluster(r, "web", c);
  Ingest("p1", r);
  const v1::StatsRow total = stats_->Stats(Totals()).total();
  EXPECT_EQ(total.requests(), 4u);
  // Half the requests are at most 1 ms (interpolated inside (0.5, 1] ms), the rest beyond.
  EXPECT_THAT(total.p50_ms(), DoubleNear(1.0, 1e-9));
  EXPECT_THAT(total.p99_ms(), DoubleNear(10000.0, 1e-9));
}

// ---- Durability and control-plane restarts ----

TEST_F(StatsAggregatorTest, AnAggregatorLoadedFromTheStoreHasTheSameTotals) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p1", WebReport(8, 1, 30));
  Ingest("p2", WebReport(9, 4, 77));
  Persist(*stats_, *store);
  const v1::GetStatsResponse before = stats_->Stats(Totals());

  stats_ = NewAggregator();
  ASSERT_TRUE(stats_->Load(*store).ok());
  const v1::GetStatsResponse after = stats_->Stats(Totals());
  EXPECT_EQ(after.total().requests(), 207u);
  EXPECT_EQ(after.total().DebugString(), before.total().DebugString());
  EXPECT_EQ(Requests(after.proxies()), Requests(before.proxies()));
  EXPECT_EQ(Requests(after.routes()), Requests(before.routes()));
}

TEST_F(StatsAggregatorTest, AContinuingRunCountsExactlyWhatIsNewAfterARestart) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p1", WebReport(7, 2, 250));
  Persist(*stats_, *store);

  stats_ = NewAggregator();
  ASSERT_TRUE(stats_->Load(*store).ok());
  Ingest("p1", WebReport(7, 2, 250), /*counted=*/false);  // resent after the reconnect
  Ingest("p1", WebReport(7, 3, 260));
  EXPECT_EQ(TotalRequests(), 260u);
  EXPECT_EQ(TotalRequests(Window(60)), 10u);  // the time series restarted; the delta is exact
}

TEST_F(StatsAggregatorTest, ACrashBeforeTheCommitLosesNothingBecauseTheNextReportCarriesIt) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Ingest("p1", WebReport(7, 1, 100));
  Persist(*stats_, *store);
  Ingest("p1", WebReport(7, 2, 250));  // counted in memory, never committed, never acked

  stats_ = NewAggregator();
  ASSERT_TRUE(stats_->Load(*store).ok());
  EXPECT_EQ(TotalRequests(), 100u);
  Ingest("p1", WebReport(7, 2, 250));  // the proxy resends what was not acknowledged
  Ingest("p1", WebReport(7, 3, 300));
  EXPECT_EQ(TotalRequests(), 300u);
}

TEST_F(StatsAggregatorTest, UnsavedRunsAreCoalescedAndDurableOnlyOnceMarkedSaved) {
  Ingest("p1", WebReport(7, 1, 100));
  Ingest("p1", WebReport(7, 2, 150));
  EXPECT_EQ(stats_->DurableSequence("p1", 7), 0u);
  StoredStats batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);  // the latest state of the run only
  EXPECT_EQ(batch.runs[0].sequence, 2u);
  EXPECT_TRUE(stats_->TakeUnsaved().empty());
  EXPECT_EQ(stats_->DurableSequence("p1", 7), 0u);

  stats_->MarkUnsaved(batch);  // the write failed
  StoredStats again = stats_->TakeUnsaved();
  ASSERT_EQ(again.runs.size(), 1u);
  auto durable = stats_->MarkSaved(again);
  ASSERT_EQ(durable.size(), 1u);
  EXPECT_EQ(durable[0].node_id, "p1");
  EXPECT_EQ(durable[0].run_id, 7u);
  EXPECT_EQ(durable[0].sequence, 2u);
  EXPECT_EQ(stats_->DurableSequence("p1", 7), 2u);
  EXPECT_EQ(stats_->DurableSequence("p1", 8), 0u);
  EXPECT_EQ(stats_->DurableSequence("nobody", 7), 0u);
}

TEST_F(StatsAggregatorTest, AFinishedRunIsFoldedWithoutChangingAnyCount) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Ingest("p1", WebReport(7, 1, 100));
  v1::StatsReport last = WebReport(7, 2, 120);
  last.set_final(true);
  Ingest("p1", last);
  Ingest("p1", WebReport(8, 1, 5));
  Persist(*stats_, *store);
  const v1::GetStatsResponse before = stats_->Stats(Totals());

  clock_.Advance(StatsAggregator::kLiveIntervals * kInterval);
  stats_->Compact();
  StoredStats batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);
  EXPECT_EQ(batch.runs[0].run_id, 7u);
  EXPECT_FALSE(batch.runs[0].report.has_value());  // folded
  ASSERT_EQ(batch.retired.size(), 1u);
  ASSERT_TRUE(store->SaveStats(batch).ok());
  stats_->MarkSaved(batch);
  const v1::GetStatsResponse after = stats_->Stats(Totals());
  EXPECT_EQ(after.total().DebugString(), before.total().DebugString());
  EXPECT_EQ(Requests(after.clusters()), Requests(before.clusters()));
  EXPECT_EQ(Requests(after.routes()), Requests(before.routes()));
  // A late copy of the folded run's report is settled, not counted.
  Ingest("p1", last, /*counted=*/false);
  EXPECT_EQ(stats_->DurableSequence("p1", 7), std::numeric_limits<std::uint64_t>::max());

  stats_ = NewAggregator();
  ASSERT_TRUE(stats_->Load(*store).ok());
  EXPECT_EQ(TotalRequests(), 125u);
  EXPECT_EQ(TotalRequests(Totals("p1", "web")), 125u);
  Ingest("p1", last, /*counted=*/false);
  Ingest("p1", WebReport(8, 2, 6));
  EXPECT_EQ(TotalRequests(), 126u);
}

TEST_F(StatsAggregatorTest, ARunWithoutAFinalReportIsFoldedOnlyAfterTheRunRetention) {
  stats_ = std::make_unique<StatsAggregator>(clock_, kInterval, 1h, 24h);
  Ingest("p1", WebReport(7, 1, 100));
  stats_->MarkSaved(stats_->TakeUnsaved());
  clock_.Advance(23h);
  stats_->Compact();
  EXPECT_TRUE(stats_->TakeUnsaved().empty());
  clock_.Advance(1h);
  stats_->Compact();
  StoredStats batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);
  EXPECT_FALSE(batch.runs[0].report.has_value());
  EXPECT_EQ(TotalRequests(), 100u);
}

TEST_F(StatsAggregatorTest, ARunWithoutAFinalReportIsNotFoldedWhileAStreamCarriesIt) {
  stats_ = std::make_unique<StatsAggregator>(clock_, kInterval, 1h, 24h);
  stats_->NodeConnected("p1");
  stats_->StreamCarriesRun("p1", 7);
  Ingest("p1", WebReport(7, 1, 100));
  stats_->MarkSaved(stats_->TakeUnsaved());
  clock_.Advance(25h);  // silent for longer than the retention, yet its stream is open
  stats_->Compact();
  EXPECT_TRUE(stats_->TakeUnsaved().empty());
  Ingest("p1", WebReport(7, 2, 150));
  EXPECT_EQ(TotalRequests(), 150u);
  stats_->MarkSaved(stats_->TakeUnsaved());

  // The retention runs from the later of its last report and its stream's end.
  clock_.Advance(1h);
  stats_->NodeDisconnected("p1", {7});
  clock_.Advance(23h);
  stats_->Compact();
  EXPECT_TRUE(stats_->TakeUnsaved().empty());
  clock_.Advance(1h);
  stats_->Compact();
  StoredStats batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);
  EXPECT_FALSE(batch.runs[0].report.has_value());
  EXPECT_EQ(TotalRequests(), 150u);
}

TEST_F(StatsAggregatorTest, ACrashedRunIsFoldedWhileTheNodesNewRunStreams) {
  stats_ = std::make_unique<StatsAggregator>(clock_, kInterval, 1h, 24h);
  Ingest("p1", WebReport(7, 1, 100));  // crashed: no final report, its stream is gone
  stats_->NodeConnected("p1");
  stats_->StreamCarriesRun("p1", 8);
  Ingest("p1", WebReport(8, 1, 10));
  stats_->MarkSaved(stats_->TakeUnsaved());
  clock_.Advance(24h);
  stats_->Compact();
  StoredStats batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);
  EXPECT_EQ(batch.runs[0].run_id, 7u);
  EXPECT_FALSE(batch.runs[0].report.has_value());
  EXPECT_EQ(TotalRequests(), 110u);
}

TEST_F(StatsAggregatorTest, AReportNewerThanItsFoldedRunIsRefusedNotDropped) {
  stats_ = std::make_unique<StatsAggregator>(clock_, kInterval, 1h, 24h);
  Ingest("p1", WebReport(7, 1, 100));
  stats_->MarkSaved(stats_->TakeUnsaved());
  clock_.Advance(24h);
  stats_->Compact();
  stats_->MarkSaved(stats_->TakeUnsaved());

  Ingest("p1", WebReport(7, 1, 100), /*counted=*/false);  // a late copy: settled
  auto newer = stats_->Ingest("p1", WebReport(7, 2, 130));
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(newer.error().message,
              HasSubstr("node \"p1\" (run 7, sequence 2): the run was folded"));
  EXPECT_THAT(newer.error().message, HasSubstr("at sequence 1"));
  EXPECT_EQ(TotalRequests(), 100u);
}

TEST_F(StatsAggregatorTest, ARunIsNotFoldedWhileItsLatestStateIsUnsaved) {
  v1::StatsReport last = WebReport(7, 1, 100);
  last.set_final(true);
  Ingest("p1", last);
  clock_.Advance(StatsAggregator::kLiveIntervals * kInterval);
  stats_->Compact();
  StoredStats batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);
  EXPECT_TRUE(batch.runs[0].report.has_value());  // the run's state first
  stats_->MarkSaved(batch);
  stats_->Compact();
  batch = stats_->TakeUnsaved();
  ASSERT_EQ(batch.runs.size(), 1u);
  EXPECT_FALSE(batch.runs[0].report.has_value());  // then the fold
}

TEST_F(StatsAggregatorTest, LoadingAReportThatDoesNotParseFailsAndLoadsNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Ingest("p1", WebReport(7, 1, 100));
  Persist(*stats_, *store);
  ASSERT_TRUE(
      store->SaveStats({{{"p2", 3, 1, kStart, kStart, std::string("\xff\xff\xff")}}, {}}).ok());
  stats_ = NewAggregator();
  auto loaded = stats_->Load(*store);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error().message, HasSubstr("run 3 of node \"p2\""));
  EXPECT_EQ(TotalRequests(), 0u);
}

// ---- Windows and rates ----

TEST_F(StatsAggregatorTest, AWindowHoldsTheCountsOfItsBucketsAndARatePerSecond) {
  clock_.Advance(120s);
  Ingest("p1", WebReport(7, 1, 100));
  clock_.Advance(30s);
  Ingest("p1", WebReport(7, 2, 160));
  v1::GetStatsResponse recent = stats_->Stats(Window(10));
  EXPECT_EQ(recent.window_seconds(), 10u);
  EXPECT_EQ(recent.total().requests(), 60u);
  EXPECT_THAT(recent.total().request_rate(), DoubleNear(6.0, 1e-9));
  v1::GetStatsResponse minute = stats_->Stats(Window(60));
  EXPECT_EQ(minute.total().requests(), 160u);
  EXPECT_THAT(minute.total().request_rate(), DoubleNear(160.0 / 60, 1e-9));
  EXPECT_EQ(stats_->Stats(Totals()).total().request_rate(), 0.0);  // no rate without a window
}

TEST_F(StatsAggregatorTest, JustAfterStartAWindowCoversOnlyTheTimeSinceStart) {
  clock_.Advance(25s);
  Ingest("p1", WebReport(7, 1, 100));
  v1::GetStatsResponse response = stats_->Stats(Window(300));
  EXPECT_EQ(response.window_seconds(), 25u);
  EXPECT_THAT(response.total().request_rate(), DoubleNear(4.0, 1e-9));
}

TEST_F(StatsAggregatorTest, BucketsOlderThanTheRetentionAreDroppedButTotalsStay) {
  stats_ = NewAggregator(60s);
  clock_.Advance(120s);
  Ingest("p1", WebReport(7, 1, 100));
  clock_.Advance(30s);
  EXPECT_EQ(TotalRequests(Window(3600)), 100u);  // cut to the retention, 60 s
  clock_.Advance(60s);
  EXPECT_EQ(TotalRequests(Window(3600)), 0u);
  stats_->Compact();
  EXPECT_EQ(TotalRequests(Window(3600)), 0u);
  EXPECT_TRUE(stats_->Stats(Window(60)).clusters().empty());  // the empty series is gone
  EXPECT_EQ(TotalRequests(), 100u);
}

TEST_F(StatsAggregatorTest, ErrorRateCountsFiveHundredsAndRequestsWithoutAResponse) {
  v1::StatsReport r = Report(7, 1);
  v1::TrafficCounters c = Traffic(85, 10);
  c.set_responses_by_class(0, 5);
  AddCluster(r, "web", c);
  Ingest("p1", r);
  const v1::StatsRow total = stats_->Stats(Window(60)).total();
  EXPECT_EQ(total.requests(), 100u);
  EXPECT_THAT(total.error_rate(), DoubleNear(0.15, 1e-12));
}

TEST_F(StatsAggregatorTest, QuantilesInterpolateLinearlyInsideTheirBucket) {
  v1::StatsReport r = Report(7, 1);
  AddCluster(r, "one-bucket", Traffic(100, 0, 2));  // all in (1, 2.5] ms
  v1::TrafficCounters split = Traffic(100, 0, 0);   // 50 in (0, 0.5] ms, 50 in (0.5, 1] ms
  split.set_latency_buckets(0, 50);
  split.set_latency_buckets(1, 50);
  AddCluster(r, "split", split);
  AddCluster(r, "slow", Traffic(10, 0, kLatencyBuckets - 1));  // +Inf
  AddCluster(r, "idle", Traffic(0));
  Ingest("p1", r);
  std::map<std::string, v1::StatsRow> rows;
  const v1::GetStatsResponse response = stats_->Stats(Totals());
  for (const auto& row : response.clusters()) rows[row.name()] = row;
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_THAT(rows["one-bucket"].p50_ms(), DoubleNear(1.75, 1e-9));
  EXPECT_THAT(rows["one-bucket"].p99_ms(), DoubleNear(2.485, 1e-9));
  EXPECT_THAT(rows["split"].p50_ms(), DoubleNear(0.5, 1e-9));
  EXPECT_THAT(rows["split"].p99_ms(), DoubleNear(0.99, 1e-9));
  EXPECT_THAT(rows["slow"].p50_ms(), DoubleNear(10000, 1e-9));  // the largest finite bound
  EXPECT_EQ(rows["idle"].p99_ms(), 0.0);
}

// ---- Filters ----

class StatsAggregatorFilterTest : public StatsAggregatorTest {
 protected:
  void SetUp() override {
    v1::Config config;
    auto* web = config.add_routes();
    web->set_name("web-route");
    web->set_cluster("web");
    auto* api = config.add_routes();
    api->set_name("api-route");
    api->set_cluster("api");
    stats_->SetRouteClusters(config);
    for (const auto& [node, scale] : {std::pair{"p1", 1}, std::pair{"p2", 10}}) {
      v1::StatsReport r = Report(7, 1);
      AddCluster(r, "web", Traffic(1 * scale), 1);
      AddCluster(r, "api", Traffic(2 * scale), 2);
      AddRoute(r, "web-route", Traffic(1 * scale));
      AddRoute(r, "api-route", Traffic(2 * scale));
      stats_->NodeConnected(node);
      Ingest(node, r);
    }
  }
};

TEST_F(StatsAggregatorFilterTest, AProxyFilterCountsOnlyThatProxy) {
  for (std::uint32_t window : {0u, 60u}) {
    v1::GetStatsResponse response = stats_->Stats(Window(window, "p2"));
    EXPECT_EQ(response.total().requests(), 30u) << window;
    EXPECT_EQ(response.total().active_requests(), 3) << window;
    EXPECT_EQ(Requests(response.clusters()),
              (std::map<std::string, std::uint64_t>{{"api", 20}, {"web", 10}}))
        << window;
    EXPECT_EQ(Requests(response.routes()),
              (std::map<std::string, std::uint64_t>{{"api-route", 20}, {"web-route", 10}}))
        << window;
    EXPECT_EQ(Requests(response.proxies()), (std::map<std::string, std::uint64_t>{{"p2", 30}}))
        << window;
  }
}

TEST_F(StatsAggregatorFilterTest, AClusterFilterListsThatClusterItsRoutesAndItsCountPerProxy) {
  for (std::uint32_t window : {0u, 60u}) {
    v1::GetStatsResponse response = stats_->Stats(Window(window, "", "api"));
    EXPECT_EQ(response.total().requests(), 22u) << window;
    EXPECT_EQ(response.total().active_requests(), 4) << window;
    EXPECT_EQ(Requests(response.clusters()), (std::map<std::string, std::uint64_t>{{"api", 22}}))
        << window;
    EXPECT_EQ(Requests(response.routes()),
              (std::map<std::string, std::uint64_t>{{"api-route", 22}}))
        << window;
    EXPECT_EQ(Requests(response.proxies()),
              (std::map<std::string, std::uint64_t>{{"p1", 2}, {"p2", 20}}))
        << window;
  }
}

TEST_F(StatsAggregatorFilterTest, ProxyAndClusterFiltersCombine) {
  for (std::uint32_t window : {0u, 60u}) {
    v1::GetStatsResponse response = stats_->Stats(Window(window, "p1", "web"));
    EXPECT_EQ(response.total().requests(), 1u) << window;
    EXPECT_EQ(Requests(response.routes()), (std::map<std::string, std::uint64_t>{{"web-route", 1}}))
        << window;
    EXPECT_EQ(Requests(response.proxies()), (std::map<std::string, std::uint64_t>{{"p1", 1}}))
        << window;
  }
}

// ---- Gauges, circuits, endpoints ----

TEST_F(StatsAggregatorTest, GaugesComeFromTheLastReportAndExpireThreeIntervalsAfterTheStream) {
  stats_->NodeConnected("p1");
  Ingest("p1", WebReport(7, 1, 100, /*active=*/7));
  Ingest("p1", WebReport(7, 2, 110, /*active=*/4));
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 4);
  stats_->NodeDisconnected("p1");
  clock_.Advance(StatsAggregator::kLiveIntervals * kInterval);
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 4);
  clock_.Advance(1ms);
  v1::GetStatsResponse response = stats_->Stats(Totals());
  EXPECT_EQ(response.total().active_requests(), 0);
  EXPECT_EQ(response.total().requests(), 110u);  // counts stay
  EXPECT_TRUE(stats_->Circuits({}).endpoints().empty());
}

TEST_F(StatsAggregatorTest, AConnectedProxyThatStopsReportingLosesItsGauges) {
  stats_->NodeConnected("p1");
  Ingest("p1", WebReport(7, 1, 100, /*active=*/7));
  clock_.Advance(StatsAggregator::kLiveIntervals * kInterval + 1ms);
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 0);
}

TEST_F(StatsAggregatorTest, AFinalReportEndsTheRunsGauges) {
  stats_->NodeConnected("p1");
  v1::StatsReport last = WebReport(7, 1, 100, /*active=*/3);
  last.set_final(true);
  Ingest("p1", last);
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 0);
  EXPECT_EQ(TotalRequests(), 100u);
}

// A rolling restart: the old process drains while the new one with the same node id reports.
TEST_F(StatsAggregatorTest, TwoLiveRunsOfOneNodeSumTheirGauges) {
  stats_->NodeConnected("p1");
  stats_->NodeConnected("p1");
  Ingest("p1", WebReport(7, 1, 100, /*active=*/3));
  Ingest("p1", WebReport(8, 1, 10, /*active=*/5));
  Ingest("p1", WebReport(7, 2, 110, /*active=*/2));
  v1::GetStatsResponse response = stats_->Stats(Totals());
  EXPECT_EQ(response.total().active_requests(), 7);
  ASSERT_EQ(response.proxies_size(), 1);
  EXPECT_EQ(response.proxies(0).active_requests(), 7);
  EXPECT_EQ(stats_->Endpoints(60s).at({"web", "10.0.0.1:80"}).proxies_reporting, 2u);
}

TEST_F(StatsAggregatorTest, TheOldRunsFinalReportKeepsTheNewRunsGauges) {
  stats_->NodeConnected("p1");
  stats_->NodeConnected("p1");
  Ingest("p1", WebReport(7, 1, 100, /*active=*/3));
  Ingest("p1", WebReport(8, 1, 10, /*active=*/5));
  v1::StatsReport last = WebReport(7, 2, 110, /*active=*/0);
  last.set_final(true);
  Ingest("p1", last);
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 5);
  EXPECT_EQ(TotalRequests(), 120u);
}

TEST_F(StatsAggregatorTest, ARunThatStopsReportingLosesItsGaugesWhileTheNodesOtherRunReports) {
  stats_->NodeConnected("p1");
  stats_->NodeConnected("p1");
  Ingest("p1", WebReport(7, 1, 100, /*active=*/3));  // then the old process dies silently
  stats_->NodeDisconnected("p1", {7});
  for (std::uint64_t sequence = 1; sequence <= 4; ++sequence) {
    Ingest("p1", WebReport(8, sequence, 10 * sequence, /*active=*/5));
    clock_.Advance(kInterval);
  }
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 5);
}

TEST_F(StatsAggregatorTest, GaugesOfALoadedRunWaitForItsNextReport) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  stats_->NodeConnected("p1");
  Ingest("p1", WebReport(7, 1, 100, /*active=*/3));
  Persist(*stats_, *store);
  stats_ = NewAggregator();
  ASSERT_TRUE(stats_->Load(*store).ok());
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 0);
  stats_->NodeConnected("p1");
  Ingest("p1", WebReport(7, 2, 100, /*active=*/5));
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(), 5);
}

TEST_F(StatsAggregatorTest, CircuitsCountTheProxiesInEachStateAndNameTheOnesNotClosed) {
  const std::vector<std::pair<std::string, v1::CircuitState>> states = {{"p1", v1::OPEN},
                                                                        {"p2", v1::OPEN},
                                                                        {"p3", v1::CLOSED},
                                                                        {"p4", v1::HALF_OPEN},
                                                                        {"p5", v1::CLOSED}};
  for (const auto& [node, state] : states) {
    v1::StatsReport r = Report(1, 1);
    AddEndpoint(r, "web", "10.0.0.1:80", Traffic(1), state);
    AddEndpoint(r, "api", "10.0.0.9:80", Traffic(1), v1::CLOSED);
    stats_->NodeConnected(node);
    Ingest(node, r);
  }
  v1::ListCircuitsRequest request;
  request.set_cluster("web");
  v1::ListCircuitsResponse response = stats_->Circuits(request);
  ASSERT_EQ(response.endpoints_size(), 1);
  const v1::EndpointCircuit& c = response.endpoints(0);
  EXPECT_EQ(c.cluster(), "web");
  EXPECT_EQ(c.address(), "10.0.0.1:80");
  EXPECT_EQ(c.proxies(), 5u);
  EXPECT_EQ(c.open(), 2u);
  EXPECT_EQ(c.half_open(), 1u);
  EXPECT_EQ(c.closed(), 2u);
  ASSERT_EQ(c.by_proxy_size(), 3);
  EXPECT_EQ(c.by_proxy(0).proxy(), "p1");
  EXPECT_EQ(c.by_proxy(0).state(), v1::OPEN);
  EXPECT_EQ(c.by_proxy(2).proxy(), "p4");
  EXPECT_EQ(c.by_proxy(2).state(), v1::HALF_OPEN);
  EXPECT_EQ(stats_->Circuits({}).endpoints_size(), 2);
}

TEST_F(StatsAggregatorTest, EndpointsCountReportingProxiesEjectionsActiveRequestsAndRates) {
  for (const auto& [node, ejected] : {std::pair{"p1", true}, std::pair{"p2", false}}) {
    v1::StatsReport r = Report(1, 1);
    AddEndpoint(r, "web", "10.0.0.1:80", Traffic(30, 10), v1::CLOSED, ejected, /*active=*/2);
    stats_->NodeConnected(node);
    Ingest(node, r);
  }
  clock_.Advance(20s);
  auto endpoints = stats_->Endpoints(60s);
  ASSERT_EQ(endpoints.size(), 1u);
  const StatsAggregator::EndpointView& view = endpoints.at({"web", "10.0.0.1:80"});
  EXPECT_EQ(view.proxies_reporting, 2u);
  EXPECT_EQ(view.ejected_on, 1u);
  EXPECT_EQ(view.active_requests, 4);
  EXPECT_EQ(view.rates.window_seconds(), 20u);
  EXPECT_EQ(view.rates.requests(), 80u);
  EXPECT_THAT(view.rates.request_rate(), DoubleNear(4.0, 1e-9));
  EXPECT_THAT(view.rates.error_rate(), DoubleNear(0.25, 1e-12));
}

TEST_F(StatsAggregatorTest, AnEndpointWithTrafficButNoLiveProxyHasRatesOnly) {
  Ingest("p1", WebReport(7, 1, 100));  // no stream: no gauges
  auto endpoints = stats_->Endpoints(60s);
  const StatsAggregator::EndpointView& view = endpoints.at({"web", "10.0.0.1:80"});
  EXPECT_EQ(view.proxies_reporting, 0u);
  EXPECT_EQ(view.rates.requests(), 100u);
}

TEST_F(StatsAggregatorTest, GaugeSumsSaturateInsteadOfOverflowing) {
  for (const char* node : {"p1", "p2"}) {
    stats_->NodeConnected(node);
    Ingest(node, WebReport(7, 1, 1, std::numeric_limits<std::int64_t>::max()));
  }
  EXPECT_EQ(stats_->Stats(Totals()).total().active_requests(),
            std::numeric_limits<std::int64_t>::max());
}

// ---- Prometheus ----

TEST_F(StatsAggregatorTest, PrometheusHasTheFleetTotalsHistogramAndGauges) {
  stats_->NodeConnected("p1");
  v1::StatsReport r = WebReport(7, 1, 100, /*active=*/3);
  r.mutable_clusters(0)->mutable_counters()->set_connect_errors(4);
  r.mutable_endpoints(0)->set_circuit(v1::OPEN);
  Ingest("p1", r);
  Ingest("p2", WebReport(7, 1, 20));  // no stream: counts, but no gauges
  std::string text;
  stats_->AppendPrometheus(text);
  EXPECT_THAT(text, HasSubstr("# TYPE hermes_fleet_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("hermes_fleet_requests_total{cluster=\"web\",class=\"2xx\"} 120\n"));
  EXPECT_THAT(text, HasSubstr("hermes_fleet_requests_total{cluster=\"web\",class=\"5xx\"} 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("hermes_fleet_route_requests_total{route=\"web-route\",class=\"2xx\"} 120\n"));
  EXPECT_THAT(text, HasSubstr("hermes_fleet_request_duration_seconds_bucket{cluster=\"web\","
                              "le=\"0.002500\"} 120\n"));
  EXPECT_THAT(text,
              HasSubstr("hermes_fleet_request_duration_seconds_count{cluster=\"web\"} 120\n"));
  EXPECT_THAT(text, HasSubstr("hermes_fleet_upstream_connect_errors_total{cluster=\"web\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("hermes_fleet_active_requests{cluster=\"web\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("hermes_fleet_endpoint_circuit_open{cluster=\"web\","
                              "endpoint=\"10.0.0.1:80\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("hermes_fleet_proxies_reporting 1\n"));
}

}  // namespace
}  // namespace hermes::controlplane
