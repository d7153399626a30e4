// What `hermesctl backends` and `hermesctl health-events` print, as tables and as -o json.
#include <gtest/gtest.h>

#include <limits>

#include "ctl/render.h"
#include "golden.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z
const system_clock::time_point kNow{milliseconds(kMay1Noon)};
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

v1::WindowRates Rates(uint64_t requests, double rate, double error_rate, double p50, double p99) {
  v1::WindowRates r;
  r.set_window_seconds(60);
  r.set_requests(requests);
  r.set_request_rate(rate);
  r.set_error_rate(error_rate);
  r.set_p50_ms(p50);
  r.set_p99_ms(p99);
  return r;
}

v1::BackendEndpoint Endpoint(std::string address, v1::EndpointHealth health, std::string reason,
                             int64_t changed_unix_ms, uint32_t reporting, uint32_t ejected,
                             int64_t active, v1::WindowRates rates) {
  v1::BackendEndpoint e;
  e.set_address(std::move(address));
  e.set_health(health);
  e.set_health_reason(std::move(reason));
  e.set_health_changed_unix_ms(changed_unix_ms);
  e.set_proxies_reporting(reporting);
  e.set_ejected_on(ejected);
  e.set_active_requests(active);
  *e.mutable_rates() = std::move(rates);
  return e;
}

// api: checked, one backend healthy, one down and ejected on 2 of 5 proxies, one new.
// static: not checked. batch: checked, no endpoints at all.
v1::ListBackendsResponse Fleet() {
  v1::ListBackendsResponse r;
  v1::BackendCluster* api = r.add_clusters();
  api->set_name("api");
  api->set_health_checked(true);
  *api->add_endpoints() =
      Endpoint("10.0.1.5:8080", v1::ENDPOINT_HEALTHY, "HTTP 200", kMay1Noon - 3 * kHour, 5, 0, 3,
               Rates(1200, 20.0, 0.0125, 12.5, 250.0));
  *api->add_endpoints() =
      Endpoint("10.0.1.6:8080", v1::ENDPOINT_UNHEALTHY, "HTTP 503", kMay1Noon - 2 * kMinute, 5, 2,
               0, Rates(30, 0.5, 1.0, 3.2, 1480.0));
  *api->add_endpoints() =
      Endpoint("10.0.1.7:8080", v1::UNKNOWN, "", 0, 0, 0, 0, Rates(0, 0, 0, 0, 0));
  v1::BackendCluster* static_files = r.add_clusters();
  static_files->set_name("static");
  *static_files->add_endpoints() =
      Endpoint("10.0.2.1:80", v1::UNCHECKED, "", 0, 5, 0, 1, Rates(600, 10.0, 0.0, 0.42, 4.0));
  v1::BackendCluster* batch = r.add_clusters();
  batch->set_name("batch");
  batch->set_health_checked(true);
  return r;
}

TEST(RenderBackendsTest, TableMatchesGolden) {
  EXPECT_EQ(RenderBackends(Fleet(), BackendsArgs{}, OutputFormat::kTable, kNow),
            Golden("backends.txt"));
}

TEST(RenderBackendsTest, JsonMatchesGolden) {
  EXPECT_EQ(RenderBackends(Fleet(), BackendsArgs{}, OutputFormat::kJson, kNow),
            Golden("backends.json"));
}

TEST(RenderBackendsTest, NoClustersSaysSoAndNamesTheCluster) {
  EXPECT_EQ(RenderBackends(v1::ListBackendsResponse(), BackendsArgs{}, OutputFormat::kTable, kNow),
            "no backends known to the control plane\n");
  EXPECT_EQ(RenderBackends(v1::ListBackendsResponse(), BackendsArgs{"api", 0}, OutputFormat::kTable,
                           kNow),
            "no backends known to the control plane in cluster api\n");
}

TEST(RenderBackendsTest, TitleNamesTheWindowTheRatesCover) {
  v1::ListBackendsResponse r;
  v1::BackendCluster* c = r.add_clusters();
  c->set_name("api");
  v1::WindowRates rates = Rates(10, 0.1, 0, 1, 2);
  rates.set_window_seconds(95);  // asked for 5m, the control plane started 95s ago
  *c->add_endpoints() = Endpoint("10.0.1.5:8080", v1::UNCHECKED, "", 0, 1, 0, 0, rates);
  const std::string out = RenderBackends(r, BackendsArgs{"", 300}, OutputFormat::kTable, kNow);
  EXPECT_EQ(out.substr(0, out.find('\n')), "rates over the last 1m35s");
}

TEST(RenderBackendsTest, NonFiniteRatesAreDashesAndJsonNull) {
  v1::ListBackendsResponse r;
  v1::BackendCluster* c = r.add_clusters();
  c->set_name("api");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  *c->add_endpoints() =
      Endpoint("10.0.1.5:8080", v1::ENDPOINT_HEALTHY, "", 0, 1, 0, 0, Rates(5, nan, inf, nan, inf));
  EXPECT_EQ(RenderBackends(r, {}, OutputFormat::kTable, kNow),
            "rates over the last 1m\n"
            "CLUSTER   ADDRESS         HEALTH    CHANGED   REASON   EJECTED   ACTIVE   REQ/S   "
            "ERR%   P99\n"
            "api       10.0.1.5:8080   healthy   -         -        0/1       0        -       "
            "-      -\n");
  const std::string json = RenderBackends(r, {}, OutputFormat::kJson, kNow);
  EXPECT_NE(json.find(R"(            "request_rate": null,
            "error_rate": null,
            "p50_ms": null,
            "p99_ms": null)"),
            std::string::npos)
      << json;
}

v1::HealthEvent Event(std::string cluster, std::string address, bool healthy, std::string reason,
                      int64_t at_unix_ms) {
  v1::HealthEvent e;
  e.set_cluster(std::move(cluster));
  e.set_address(std::move(address));
  e.set_healthy(healthy);
  e.set_reason(std::move(reason));
  e.set_at_unix_ms(at_unix_ms);
  return e;
}

v1::ListHealthEventsResponse Events() {
  v1::ListHealthEventsResponse r;
  *r.add_events() = Event("api", "10.0.1.6:8080", false, "HTTP 503", kMay1Noon - 2 * kMinute);
  *r.add_events() = Event("api", "10.0.1.6:8080", true, "HTTP 200", kMay1Noon - kHour);
  *r.add_events() = Event("payments", "10.0.3.2:8443", false, "connect: Connection refused",
                          kMay1Noon - 26 * kHour);
  return r;
}

TEST(RenderHealthEventsTest, TableMatchesGolden) {
  EXPECT_EQ(RenderHealthEvents(Events(), HealthEventsArgs{}, OutputFormat::kTable, kNow),
            Golden("health-events.txt"));
}

TEST(RenderHealthEventsTest, JsonMatchesGolden) {
  EXPECT_EQ(RenderHealthEvents(Events(), HealthEventsArgs{}, OutputFormat::kJson, kNow),
            Golden("health-events.json"));
}

TEST(RenderHealthEventsTest, NoEventsSaysSo) {
  EXPECT_EQ(RenderHealthEvents(v1::ListHealthEventsResponse(), HealthEventsArgs{"api", 0},
                               OutputFormat::kTable, kNow),
            "no health changes recorded in cluster api\n");
  EXPECT_EQ(RenderHealthEvents(v1::ListHealthEventsResponse(), HealthEventsArgs{},
                               OutputFormat::kJson, kNow),
            "{\n  \"events\": []\n}\n");
}

}  // namespace
}  // namespace hermes::ctl
