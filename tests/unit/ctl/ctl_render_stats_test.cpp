// What `hermesctl stats` prints, over a window and as totals, as a table and as -o json.
#include <gtest/gtest.h>

#include <array>

#include "ctl/render.h"
#include "golden.h"

namespace hermes::ctl {
namespace {

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z

struct Counts {
  std::array<uint64_t, 6> by_class;  // none sent, 1xx .. 5xx
  uint64_t connect_errors, timeouts, retries, overflow;
  int64_t active;
};

struct Rates {
  double request_rate, error_rate, p50_ms, p99_ms;
};

v1::StatsRow Row(std::string name, const Counts& c, const Rates& r) {
  v1::StatsRow row;
  row.set_name(std::move(name));
  uint64_t requests = 0;
  for (uint64_t n : c.by_class) {
    row.add_responses_by_class(n);
    requests += n;
  }
  row.set_requests(requests);
  row.set_connect_errors(c.connect_errors);
  row.set_timeouts(c.timeouts);
  row.set_retries(c.retries);
  row.set_overflow(c.overflow);
  row.set_active_requests(c.active);
  row.set_request_rate(r.request_rate);
  row.set_error_rate(r.error_rate);
  row.set_p50_ms(r.p50_ms);
  row.set_p99_ms(r.p99_ms);
  return row;
}

const Counts kApi{{2, 0, 4800, 100, 40, 58}, 12, 5, 30, 1, 6};
const Rates kApiRates{16.6667, 0.012, 12.0, 510.0};
const Counts kStatic{{0, 0, 1000, 0, 0, 0}, 0, 0, 0, 0, 1};
const Rates kStaticRates{3.3333, 0.0, 0.8, 3.9};

// The whole fleet over the last 5 minutes: two clusters, a route each, two proxies.
v1::GetStatsResponse FleetOver5m() {
  v1::GetStatsResponse r;
  r.set_window_seconds(300);
  r.set_report_interval_ms(10'000);
  r.set_at_unix_ms(kMay1Noon);
  *r.mutable_total() =
      Row("total", {{2, 0, 5800, 100, 40, 58}, 12, 5, 30, 1, 7}, {20.0, 0.01, 11.3, 480.0});
  *r.add_clusters() = Row("api", kApi, kApiRates);
  *r.add_clusters() = Row("static", kStatic, kStaticRates);
  *r.add_routes() = Row("/v1/", kApi, kApiRates);
  *r.add_routes() = Row("/static/", kStatic, kStaticRates);
  *r.add_proxies() =
      Row("edge-1", {{1, 0, 2950, 50, 20, 29}, 7, 3, 16, 1, 4}, {10.1667, 0.009836, 11.0, 470.0});
  *r.add_proxies() =
      Row("edge-2", {{1, 0, 2850, 50, 20, 29}, 5, 2, 14, 0, 3}, {9.8333, 0.010169, 11.5, 495.0});
  return r;
}

// One proxy's counts for one cluster since the stats began: no rates, no percentiles.
v1::GetStatsResponse Edge1ApiTotals() {
  v1::GetStatsResponse r;
  r.set_window_seconds(0);
  r.set_report_interval_ms(10'000);
  r.set_at_unix_ms(kMay1Noon);
  const Counts counts{{1, 0, 98000, 2000, 800, 1200}, 150, 60, 410, 3, 2};
  const Rates no_window{0, 0.011774, 0, 0};
  *r.mutable_total() = Row("total", counts, no_window);
  *r.add_clusters() = Row("api", counts, no_window);
  *r.add_routes() = Row("/v1/", counts, no_window);
  *r.add_proxies() = Row("edge-1", counts, no_window);
  return r;
}

const StatsArgs kFleet5m{"", "", 300};
const StatsArgs kEdge1Api{"edge-1", "api", 0};

TEST(RenderStatsTest, WindowTableMatchesGolden) {
  EXPECT_EQ(RenderStats(FleetOver5m(), kFleet5m, OutputFormat::kTable), Golden("stats.txt"));
}

TEST(RenderStatsTest, WindowJsonMatchesGolden) {
  EXPECT_EQ(RenderStats(FleetOver5m(), kFleet5m, OutputFormat::kJson), Golden("stats.json"));
}

TEST(RenderStatsTest, TotalsTableHasNoRatesOrPercentiles) {
  EXPECT_EQ(RenderStats(Edge1ApiTotals(), kEdge1Api, OutputFormat::kTable),
            Golden("stats-totals.txt"));
}

TEST(RenderStatsTest, TotalsJsonHasNullRatesAndPercentiles) {
  EXPECT_EQ(RenderStats(Edge1ApiTotals(), kEdge1Api, OutputFormat::kJson),
            Golden("stats-totals.json"));
}

TEST(RenderStatsTest, TitleSaysWhenTheControlPlaneHasLessThanTheWindowAsked) {
  v1::GetStatsResponse r = FleetOver5m();
  r.set_window_seconds(95);
  const std::string out = RenderStats(r, kFleet5m, OutputFormat::kTable);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "fleet stats over the last 1m35s (of the 5m asked), at 2024-05-01T12:00:00Z");
}

TEST(RenderStatsTest, NoTrafficShowsDashesForErrorRateAndLatency) {
  v1::GetStatsResponse r;
  r.set_window_seconds(60);
  EXPECT_EQ(RenderStats(r, StatsArgs{"", "", 60}, OutputFormat::kTable),
            "fleet stats over the last 1m\n"
            "\n"
            "KIND    NAME   REQUESTS   REQ/S   ERR%   P50   P99   2XX   3XX   4XX   5XX   "
            "CONN ERR   TIMEOUTS   RETRIES\n"
            "total   all    0          0.00    -      -     -     0     0     0     0     "
            "0          0          0\n");
}

TEST(RenderStatsTest, MissingStatusClassesCountZero) {
  v1::GetStatsResponse r;
  r.mutable_total()->add_responses_by_class(0);
  r.mutable_total()->add_responses_by_class(0);
  r.mutable_total()->add_responses_by_class(7);  // 2xx; 3xx..5xx left out
  r.mutable_total()->set_requests(7);
  const std::string json = RenderStats(r, {}, OutputFormat::kJson);
  EXPECT_NE(json.find(R"("responses": {
      "none": 0,
      "1xx": 0,
      "2xx": 7,
      "3xx": 0,
      "4xx": 0,
      "5xx": 0
    })"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace hermes::ctl
