// StatsAggregator: counting pushed reports exactly once, the time series, and the queries.
#include "controlplane/stats/stats_aggregator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "hermes/common/prometheus.h"

namespace hermes::controlplane {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr const char* kClassNames[kStatusClasses] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

std::int64_t UnixMs(TimePoint t) {
  return std::chrono::floor<milliseconds>(t.time_since_epoch()).count();
}

// Beyond this (the year 2255) a time no longer fits the clock's nanoseconds.
constexpr std::int64_t kMaxUnixMs = 9'000'000'000'000;

TimePoint FromUnixMs(std::int64_t ms) {
  return TimePoint(duration_cast<TimePoint::duration>(milliseconds(ms)));
}

// Gauges come from untrusted reports: their sum saturates instead of overflowing.
std::int64_t AddGauge(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

StoreError Invalid(std::string message) {
  return {StoreErrorKind::kInvalidArgument, std::move(message)};
}

template <typename Map>
void AddAll(Map& into, const Map& from) {
  for (const auto& [key, counts] : from) into[key] += counts;
}

double Rate(const Counters& c, double seconds) {
  return seconds > 0 ? static_cast<double>(c.requests()) / seconds : 0;
}

double ErrorRate(const Counters& c) {
  const std::uint64_t requests = c.requests();
  return requests == 0 ? 0 : static_cast<double>(c.errors()) / static_cast<double>(requests);
}

// `seconds` 0: totals, no rate.
v1::StatsRow Row(const std::string& name, const Counters& c, double seconds,
                 std::int64_t active_requests) {
  v1::StatsRow row;
  row.set_name(name);
  for (std::uint64_t n : c.responses) row.add_responses_by_class(n);
  row.set_requests(c.requests());
  row.set_connect_errors(c.connect_errors);
  row.set_timeouts(c.timeouts);
  row.set_retries(c.retries);
  row.set_overflow(c.overflow);
  row.set_request_rate(Rate(c, seconds));
  row.set_error_rate(ErrorRate(c));
  row.set_p50_ms(c.LatencyQuantileMs(0.5));
  row.set_p99_ms(c.LatencyQuantileMs(0.99));
  row.set_active_requests(active_requests);
  return row;
}

v1::WindowRates Rates(const Counters& c, double seconds) {
  v1::WindowRates rates;
  rates.set_window_seconds(static_cast<std::uint32_t>(std::lround(seconds)));
  rates.set_requests(c.requests());
  rates.set_request_rate(Rate(c, seconds));
  rates.set_error_rate(ErrorRate(c));
  rates.set_p50_ms(c.LatencyQuantileMs(0.5));
  rates.set_p99_ms(c.LatencyQuantileMs(0.99));
  return rates;
}

// A row per name with its counts and gauge.
struct Rows {
  std::map<std::string, Counters, std::less<>> counts;
  std::map<std::string, std::int64_t, std::less<>> active;

  void Count(const std::string& name, const Counters& c) { counts[name] += c; }
  void Gauge(const std::string& name, std::int64_t n) {
    counts.try_emplace(name);
    active[name] = AddGauge(active[name], n);
  }
  template <typename Add>
  void Write(double seconds, Add&& add) const {
    for (const auto& [name, c] : counts) {
      auto a = active.find(name);
      *add() = Row(name, c, seconds, a == active.end() ? 0 : a->second);
    }
  }
};

}  // namespace

struct StatsAggregator::Report {
  std::uint64_t run_id = 0;
  std::uint64_t sequence = 0;
  std::int64_t started_unix_ms = 0;
  bool final = false;
  ScopeCounts counts;
  Gauges gauges;
};

StatsAggregator::ScopeCounts& StatsAggregator::ScopeCounts::operator+=(const ScopeCounts& other) {
  AddAll(routes, other.routes);
  AddAll(clusters, other.clusters);
  AddAll(endpoints, other.endpoints);
  return *this;
}

StatsAggregator::StatsAggregator(const Clock& clock, std::chrono::milliseconds report_interval,
                                 std::chrono::seconds retention, std::chrono::seconds run_retention)
    : clock_(clock),
      report_interval_(std::max(report_interval, milliseconds(1))),
      retention_(std::max(retention, std::chrono::seconds(1))),
      run_retention_(run_retention),
      started_(clock.Now()) {}

// ---- Reading reports ----

Result<StatsAggregator::Report> StatsAggregator::Read(const v1::StatsReport& in) {
  Report report;
  report.run_id = in.run_id();
  report.sequence = in.sequence();
  report.started_unix_ms = in.run_started_unix_ms();
  report.final = in.final();
  auto mapping = LatencyMapping::For(in.latency_bounds_us());
  if (!mapping.ok()) return mapping.error();

  auto scopes = [&](const auto& list, const char* field, auto& counts,
                    auto& gauges) -> Result<void> {
    for (int i = 0; i < list.size(); ++i) {
      const v1::ScopeStats& scope = list[i];
      const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
      if (scope.name().empty()) return Invalid(where + ": name is empty");
      auto read = mapping->Read(scope.counters(), where + " (" + Quoted(scope.name()) + ")");
      if (!read.ok()) return read.error();
      if (!counts.emplace(scope.name(), *read).second) {
        return Invalid(where + ": " + Quoted(scope.name()) + " is listed twice");
      }
      gauges[scope.name()] = scope.active_requests();
    }
    return {};
  };
  if (auto r = scopes(in.routes(), "routes", report.counts.routes, report.gauges.routes); !r) {
    return r.error();
  }
  if (auto r = scopes(in.clusters(), "clusters", report.counts.clusters, report.gauges.clusters);
      !r) {
    return r.error();
  }
  for (int i = 0; i < in.endpoints_size(); ++i) {
    const v1::EndpointStats& e = in.endpoints(i);
    const std::string where = "endpoints[" + std::to_string(i) + "]";
    if (e.cluster().empty() || e.address().empty()) {
      return Invalid(where + ": cluster and address are required");
    }
    auto read =
        mapping->Read(e.counters(), where + " (" + Quoted(e.cluster() + " " + e.address()) + ")");
    if (!read.ok()) return read.error();
    EndpointKey key{e.cluster(), e.address()};
    if (!report.counts.endpoints.emplace(key, *read).second) {
      return Invalid(where + ": " + Quoted(e.cluster() + " " + e.address()) + " is listed twice");
    }
    report.gauges.endpoints[key] = {e.active_requests(), e.circuit(), e.ejected()};
  }
  return report;
}

Result<bool> StatsAggregator::Ingest(const std::string& node_id, const v1::StatsReport& in) {
  const std::string where = "stats report from node " + Quoted(node_id) + " (run " +
                            std::to_string(in.run_id()) + ", sequence " +
                            std::to_string(in.sequence()) + "): ";
  if (node_id.empty()) return Invalid(where + "the node id is empty");
  if (in.sequence() == 0)
    return Invalid(where + "sequence must be 1 or more (1, 2, 3 ... per run)");
  if (in.sequence() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Invalid(where + "sequence is out of range");
  }
  auto report = Read(in);
  if (!report.ok()) return Invalid(where + report.error().message);

  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  Node& node = nodes_[node_id];
  if (auto folded = node.folded.find(report->run_id); folded != node.folded.end()) {
    if (report->sequence <= folded->second.sequence) return false;
    // Its counts went into the retired counts, which do not say what part was this run's, so
    // nothing newer can be counted exactly. Compact folds no run a stream carries, so this is a
    // proxy that was cut off (or silent) for the whole run retention, or a final run reporting
    // again; it is refused, not dropped silently, so that the proxy's operator hears of it.
    return StoreError{
        StoreErrorKind::kNotFound,
        where + "the run was folded (it ended, or neither a report of it nor a " +
            "stream carrying it came for the run retention) at sequence " +
            std::to_string(folded->second.sequence) +
            ", so newer reports of it cannot be counted; restart the proxy to start " +
            "a new run"};
  }
  auto existing = node.runs.find(report->run_id);
  if (existing != node.runs.end() && report->sequence <= existing->second.sequence) return false;
  CountLocked(node_id, node, *report, now);
  return true;
}

void StatsAggregator::CountLocked(const std::string& node_id, Node& node, const Report& report,
                                  TimePoint now) {
  Run& run = node.runs[report.run_id];
  const std::int64_t bucket = BucketIndex(now);

  // A scope's counts since the run's last report; counts below the last ones mean the proxy
  // restarted that scope's counters: the last ones move to the retired counts, and the new ones
  // count from zero.
  auto delta = [&](auto& last, auto& retired, const auto& key, const Counters& now_counts) {
    Counters& previous = last[key];
    Counters d;
    if (now_counts.Covers(previous)) {
      d = now_counts.Since(previous);
    } else {
      retired[key] += previous;
      node.retired_unsaved = true;
      d = now_counts;
    }
    previous = now_counts;
    return d;
  };
  for (const auto& [name, counts] : report.counts.routes) {
    const Counters d = delta(run.counts.routes, node.retired.routes, name, counts);
    if (d.empty()) continue;
    route_series_[name].Add(bucket, d);
    proxy_route_series_[{node_id, name}].Add(bucket, d);
  }
  for (const auto& [name, counts] : report.counts.clusters) {
    const Counters d = delta(run.counts.clusters, node.retired.clusters, name, counts);
    if (d.empty()) continue;
    cluster_series_[name].Add(bucket, d);
    proxy_cluster_series_[{node_id, name}].Add(bucket, d);
    proxy_series_[node_id].Add(bucket, d);
  }
  for (const auto& [key, counts] : report.counts.endpoints) {
    const Counters d = delta(run.counts.endpoints, node.retired.endpoints, key, counts);
    if (!d.empty()) endpoint_series_[key].Add(bucket, d);
  }

  run.sequence = report.sequence;
  const bool started_known = report.started_unix_ms > 0 && report.started_unix_ms < kMaxUnixMs;
  run.started_at = started_known ? FromUnixMs(report.started_unix_ms) : now;
  run.last_report_at = now;
  run.final = report.final;
  run.unsaved = true;
  run.gauges = report.gauges;
  run.has_gauges = !report.final;
}

// ---- Streams and config ----

void StatsAggregator::NodeConnected(const std::string& node_id) {
  std::lock_guard lock(mu_);
  ++nodes_[node_id].open_streams;
}

void StatsAggregator::NodeDisconnected(const std::string& node_id,
                                       const std::vector<std::uint64_t>& runs) {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  Node& node = nodes_[node_id];
  node.open_streams = std::max(0, node.open_streams - 1);
  node.gone_at = now;
  for (std::uint64_t run_id : runs) {
    if (auto it = node.run_streams.find(run_id);
        it != node.run_streams.end() && --it->second <= 0) {
      node.run_streams.erase(it);
    }
    if (auto run = node.runs.find(run_id); run != node.runs.end()) {
      run->second.stream_ended_at = now;
    }
  }
}

void StatsAggregator::StreamCarriesRun(const std::string& node_id, std::uint64_t run_id) {
  std::lock_guard lock(mu_);
  ++nodes_[node_id].run_streams[run_id];
}

void StatsAggregator::SetRouteClusters(const v1::Config& config) {
  std::map<std::string, std::string, std::less<>> routes;
  for (int i = 0; i < config.routes_size(); ++i) {
    const v1::Route& route = config.routes(i);
    // The data plane names a route's stats as config_defaults.cpp names the route.
    routes[route.name().empty() ? "route-" + std::to_string(i) : route.name()] = route.cluster();
  }
  std::lock_guard lock(mu_);
  route_clusters_ = std::move(routes);
}

std::string StatsAggregator::RouteClusterLocked(const std::string& route) const {
  auto it = route_clusters_.find(route);
  return it == route_clusters_.end() ? std::string() : it->second;
}

// ---- Time ----

std::int64_t StatsAggregator::BucketIndex(TimePoint t) const {
  const std::int64_t ms = UnixMs(t);
  const std::int64_t width = report_interval_.count();
  return ms >= 0 ? ms / width : (ms - width + 1) / width;
}

std::pair<Counters, Counters> StatsAggregator::SplitCounts(std::chrono::seconds window,
                                                           const std::set<std::string>& ids) const {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  const Window span = WindowOf(window, now);
  std::pair<Counters, Counters> out;
  for (const auto& [id, series] : proxy_series_)
    (ids.contains(id) ? out.first : out.second) += series.Sum(span.first, span.last);
  return out;
}

StatsAggregator::Window StatsAggregator::WindowOf(std::chrono::seconds length,
                                                  TimePoint now) const {
  const milliseconds cut = std::min<milliseconds>(length, retention_);
  const std::int64_t width = report_interval_.count();
  const std::int64_t buckets = std::max<std::int64_t>(1, (cut.count() + width - 1) / width);
  // Just after start the series holds less than the window; a report carries about one
  // interval's traffic, so the covered time is never taken as less than one interval.
  const auto since_start = std::max<TimePoint::duration>(now - started_, report_interval_);
  const double seconds =
      std::chrono::duration<double>(std::min<TimePoint::duration>(cut, since_start)).count();
  const std::int64_t last = BucketIndex(now);
  return {last - buckets + 1, last, seconds};
}

bool StatsAggregator::LiveLocked(const Node& node, const Run& run, TimePoint now) const {
  if (!run.has_gauges) return false;
  // The last moment the node was heard of: now while it has a stream. A run that was silent
  // for kLiveIntervals before that (a drained old run beside a new one) is not live either.
  const TimePoint heard = node.open_streams > 0 ? now : node.gone_at;
  const auto limit = kLiveIntervals * report_interval_;
  return now - heard <= limit && heard - run.last_report_at <= limit;
}

void StatsAggregator::EachLiveGaugesLocked(
    TimePoint now, const std::function<void(const std::string&, const Gauges&)>& f) const {
  for (const auto& [id, node] : nodes_) {
    for (const auto& [_, run] : node.runs) {
      if (LiveLocked(node, run, now)) f(id, run.gauges);
    }
  }
}

// ---- Queries ----

void StatsAggregator::EachCountsLocked(
    const std::function<void(const std::string&, const ScopeCounts&)>& f) const {
  for (const auto& [id, node] : nodes_) {
    f(id, node.retired);
    for (const auto& [_, run] : node.runs) f(id, run.counts);
  }
}

v1::GetStatsResponse StatsAggregator::Stats(const v1::GetStatsRequest& request) const {
  const TimePoint now = clock_.Now();
  const std::string& proxy = request.proxy();
  const std::string& cluster = request.cluster();
  std::lock_guard lock(mu_);
  auto cluster_selected = [&](const std::string& name) {
    return cluster.empty() || name == cluster;
  };
  auto route_selected = [&](const std::string& name) {
    return cluster.empty() || RouteClusterLocked(name) == cluster;
  };

  Rows clusters, routes, proxies;
  Counters total;
  double seconds = 0;
  if (request.window_seconds() == 0) {
    EachCountsLocked([&](const std::string& id, const ScopeCounts& counts) {
      if (!proxy.empty() && id != proxy) return;
      for (const auto& [name, c] : counts.clusters) {
        if (!cluster_selected(name)) continue;
        clusters.Count(name, c);
        proxies.Count(id, c);
        total += c;
      }
      for (const auto& [name, c] : counts.routes) {
        if (route_selected(name)) routes.Count(name, c);
      }
    });
  } else {
    const Window window = WindowOf(std::chrono::seconds(request.window_seconds()), now);
    seconds = window.seconds;
    if (proxy.empty()) {
      for (const auto& [name, series] : cluster_series_) {
        if (!cluster_selected(name)) continue;
        const Counters c = series.Sum(window.first, window.last);
        clusters.Count(name, c);
        total += c;
      }
      for (const auto& [name, series] : route_series_) {
        if (route_selected(name)) routes.Count(name, series.Sum(window.first, window.last));
      }
      if (cluster.empty()) {
        for (const auto& [id, series] : proxy_series_)
          proxies.Count(id, series.Sum(window.first, window.last));
      } else {
        for (const auto& [key, series] : proxy_cluster_series_) {
          if (key.second == cluster)
            proxies.Count(key.first, series.Sum(window.first, window.last));
        }
      }
    } else {
      for (auto it = proxy_cluster_series_.lower_bound({proxy, ""});
           it != proxy_cluster_series_.end() && it->first.first == proxy; ++it) {
        if (!cluster_selected(it->first.second)) continue;
        const Counters c = it->second.Sum(window.first, window.last);
        clusters.Count(it->first.second, c);
        proxies.Count(proxy, c);
        total += c;
      }
      for (auto it = proxy_route_series_.lower_bound({proxy, ""});
           it != proxy_route_series_.end() && it->first.first == proxy; ++it) {
        if (route_selected(it->first.second)) {
          routes.Count(it->first.second, it->second.Sum(window.first, window.last));
        }
      }
    }
  }

  std::int64_t total_active = 0;
  EachLiveGaugesLocked(now, [&](const std::string& id, const Gauges& gauges) {
    if (!proxy.empty() && id != proxy) return;
    for (const auto& [name, n] : gauges.clusters) {
      if (!cluster_selected(name)) continue;
      clusters.Gauge(name, n);
      proxies.Gauge(id, n);
      total_active = AddGauge(total_active, n);
    }
    for (const auto& [name, n] : gauges.routes) {
      if (route_selected(name)) routes.Gauge(name, n);
    }
  });

  v1::GetStatsResponse response;
  response.set_window_seconds(static_cast<std::uint32_t>(std::lround(seconds)));
  response.set_report_interval_ms(static_cast<std::uint32_t>(report_interval_.count()));
  response.set_at_unix_ms(UnixMs(now));
  *response.mutable_total() = Row("total", total, seconds, total_active);
  clusters.Write(seconds, [&] { return response.add_clusters(); });
  routes.Write(seconds, [&] { return response.add_routes(); });
  proxies.Write(seconds, [&] { return response.add_proxies(); });
  return response;
}

v1::ListCircuitsResponse StatsAggregator::Circuits(const v1::ListCircuitsRequest& request) const {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  std::map<EndpointKey, v1::EndpointCircuit> circuits;
  // Each live run is a proxy process with its own breakers.
  EachLiveGaugesLocked(now, [&](const std::string& id, const Gauges& gauges) {
    for (const auto& [key, gauge] : gauges.endpoints) {
      if (!request.cluster().empty() && key.first != request.cluster()) continue;
      v1::EndpointCircuit& c = circuits[key];
      c.set_cluster(key.first);
      c.set_address(key.second);
      c.set_proxies(c.proxies() + 1);
      switch (gauge.circuit) {
        case v1::OPEN:
          c.set_open(c.open() + 1);
          break;
        case v1::HALF_OPEN:
          c.set_half_open(c.half_open() + 1);
          break;
        default:  // a proxy that reports no state runs no breaker: closed
          c.set_closed(c.closed() + 1);
          continue;
      }
      v1::ProxyCircuit& p = *c.add_by_proxy();
      p.set_proxy(id);
      p.set_state(gauge.circuit);
    }
  });
  v1::ListCircuitsResponse response;
  for (auto& [_, c] : circuits) *response.add_endpoints() = std::move(c);
  return response;
}

std::map<EndpointKey, StatsAggregator::EndpointView> StatsAggregator::Endpoints(
    std::chrono::seconds window) const {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  const Window span = WindowOf(window, now);
  std::map<EndpointKey, EndpointView> views;
  EachLiveGaugesLocked(now, [&](const std::string&, const Gauges& gauges) {
    for (const auto& [key, gauge] : gauges.endpoints) {
      auto [it, added] = views.try_emplace(key);
      EndpointView& view = it->second;
      if (added) view.rates = Rates(Counters{}, span.seconds);
      ++view.proxies_reporting;
      view.ejected_on += gauge.ejected ? 1 : 0;
      view.active_requests = AddGauge(view.active_requests, gauge.active_requests);
    }
  });
  for (const auto& [key, series] : endpoint_series_) {
    views[key].rates = Rates(series.Sum(span.first, span.last), span.seconds);
  }
  return views;
}

void StatsAggregator::AppendPrometheus(std::string& out) const {
  const TimePoint now = clock_.Now();
  std::map<std::string, Counters, std::less<>> clusters, routes;
  std::map<std::string, std::int64_t, std::less<>> active;
  struct EndpointState {
    std::int64_t open = 0;
    std::int64_t ejected = 0;
  };
  std::map<EndpointKey, EndpointState> endpoints;
  std::int64_t reporting = 0;
  {
    std::lock_guard lock(mu_);
    EachCountsLocked([&](const std::string&, const ScopeCounts& counts) {
      AddAll(clusters, counts.clusters);
      AddAll(routes, counts.routes);
    });
    const std::string* last_node = nullptr;  // runs come node by node
    EachLiveGaugesLocked(now, [&](const std::string& id, const Gauges& gauges) {
      if (last_node == nullptr || *last_node != id) ++reporting;
      last_node = &id;
      for (const auto& [name, n] : gauges.clusters) active[name] = AddGauge(active[name], n);
      for (const auto& [key, gauge] : gauges.endpoints) {
        EndpointState& e = endpoints[key];
        e.open += gauge.circuit == v1::OPEN ? 1 : 0;
        e.ejected += gauge.ejected ? 1 : 0;
      }
    });
  }

  PrometheusWriter w;
  auto requests = [&](const std::string& family, std::string_view label, const auto& counts) {
    w.Family(family, "counter",
             "Requests over the fleet by response status class (none: no response was sent), "
             "from the proxies' pushed stats.");
    for (const auto& [name, c] : counts) {
      for (std::size_t i = 0; i < kStatusClasses; ++i) {
        w.Sample(family, {{label, name}, {"class", kClassNames[i]}}, c.responses[i]);
      }
    }
  };
  requests("hermes_fleet_requests_total", "cluster", clusters);
  requests("hermes_fleet_route_requests_total", "route", routes);

  w.Family("hermes_fleet_request_duration_seconds", "histogram",
           "Time from the request head to the end of the response, over the fleet.");
  for (const auto& [name, c] : clusters) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kLatencyBuckets; ++b) {
      cumulative += c.latency[b];
      const std::string le =
          b < kLatencyBoundsUs.size() ? std::to_string(kLatencyBoundsUs[b] / 1e6) : "+Inf";
      w.Sample("hermes_fleet_request_duration_seconds_bucket", {{"cluster", name}, {"le", le}},
               cumulative);
    }
    w.Sample("hermes_fleet_request_duration_seconds_sum", {{"cluster", name}},
             static_cast<double>(c.latency_sum_us) / 1e6);
    w.Sample("hermes_fleet_request_duration_seconds_count", {{"cluster", name}}, cumulative);
  }

  auto counter = [&](const std::string& family, const char* help, auto member) {
    w.Family(family, "counter", help);
    for (const auto& [name, c] : clusters) w.Sample(family, {{"cluster", name}}, c.*member);
  };
  counter("hermes_fleet_upstream_connect_errors_total",
          "Failed connection attempts to endpoints, over the fleet.", &Counters::connect_errors);
  counter("hermes_fleet_upstream_timeouts_total", "Connect or response timeouts, over the fleet.",
          &Counters::timeouts);
  counter("hermes_fleet_upstream_retries_total", "Tries after the first, over the fleet.",
          &Counters::retries);
  counter("hermes_fleet_upstream_retry_overflow_total",
          "Retries refused by the retry budget or max_retries, over the fleet.",
          &Counters::retry_overflow);
  counter("hermes_fleet_upstream_overflow_total",
          "Requests refused by a cluster limit (503, x-hermes-overloaded), over the fleet.",
          &Counters::overflow);
  counter("hermes_fleet_breaker_rejections_total",
          "Endpoint picks skipped because the endpoint's breaker was open, over the fleet.",
          &Counters::breaker_rejections);

  w.Family("hermes_fleet_active_requests", "gauge",
           "Requests in flight over the live proxies, from their last reports.");
  for (const auto& [name, n] : active)
    w.Sample("hermes_fleet_active_requests", {{"cluster", name}}, n);
  w.Family("hermes_fleet_endpoint_circuit_open", "gauge",
           "Live proxies whose breaker for the endpoint is open.");
  for (const auto& [key, e] : endpoints) {
    w.Sample("hermes_fleet_endpoint_circuit_open",
             {{"cluster", key.first}, {"endpoint", key.second}}, e.open);
  }
  w.Family("hermes_fleet_endpoint_ejected", "gauge",
           "Live proxies whose outlier detection ejects the endpoint.");
  for (const auto& [key, e] : endpoints) {
    w.Sample("hermes_fleet_endpoint_ejected", {{"cluster", key.first}, {"endpoint", key.second}},
             e.ejected);
  }
  w.Family("hermes_fleet_proxies_reporting", "gauge",
           "Proxies whose stats are live (a stream now, or one within three report intervals).");
  w.Sample("hermes_fleet_proxies_reporting", {}, reporting);
  out += w.text();
}

// ---- Durability ----

v1::StatsReport StatsAggregator::CountsReport(const ScopeCounts& counts) {
  v1::StatsReport report;
  for (std::uint64_t bound : kLatencyBoundsUs) report.add_latency_bounds_us(bound);
  for (const auto& [name, c] : counts.routes) {
    v1::ScopeStats& s = *report.add_routes();
    s.set_name(name);
    *s.mutable_counters() = ToProto(c);
  }
  for (const auto& [name, c] : counts.clusters) {
    v1::ScopeStats& s = *report.add_clusters();
    s.set_name(name);
    *s.mutable_counters() = ToProto(c);
  }
  for (const auto& [key, c] : counts.endpoints) {
    v1::EndpointStats& e = *report.add_endpoints();
    e.set_cluster(key.first);
    e.set_address(key.second);
    *e.mutable_counters() = ToProto(c);
  }
  return report;
}

StatsRunRecord StatsAggregator::RunRecord(const std::string& node_id, std::uint64_t run_id,
                                          const Run& run) {
  v1::StatsReport report = CountsReport(run.counts);
  report.mutable_node()->set_id(node_id);
  report.set_run_id(run_id);
  report.set_run_started_unix_ms(UnixMs(run.started_at));
  report.set_sequence(run.sequence);
  report.set_at_unix_ms(UnixMs(run.last_report_at));
  report.set_final(run.final);
  return {node_id,
          run_id,
          run.sequence,
          run.started_at,
          run.last_report_at,
          report.SerializeAsString()};
}

StoredStats StatsAggregator::TakeUnsaved() {
  StoredStats out;
  std::lock_guard lock(mu_);
  for (auto& [id, node] : nodes_) {
    for (auto& [run_id, run] : node.runs) {
      if (!run.unsaved) continue;
      run.unsaved = false;
      out.runs.push_back(RunRecord(id, run_id, run));
    }
    for (auto& [run_id, folded] : node.folded) {
      if (!folded.unsaved) continue;
      folded.unsaved = false;
      out.runs.push_back(
          {id, run_id, folded.sequence, folded.started_at, folded.last_report_at, std::nullopt});
    }
    if (node.retired_unsaved) {
      node.retired_unsaved = false;
      out.retired.push_back({id, CountsReport(node.retired).SerializeAsString()});
    }
  }
  return out;
}

std::vector<StatsAggregator::DurableRun> StatsAggregator::MarkSaved(const StoredStats& saved) {
  std::vector<DurableRun> durable;
  std::lock_guard lock(mu_);
  for (const StatsRunRecord& record : saved.runs) {
    auto node = nodes_.find(record.node_id);
    if (node == nodes_.end()) continue;
    if (!record.report) {
      if (auto f = node->second.folded.find(record.run_id); f != node->second.folded.end()) {
        f->second.durable = true;
      }
    } else if (auto r = node->second.runs.find(record.run_id); r != node->second.runs.end()) {
      r->second.durable = std::max(r->second.durable, record.sequence);
    }
    durable.push_back(
        {record.node_id, record.run_id, DurableSequenceLocked(node->second, record.run_id)});
  }
  return durable;
}

void StatsAggregator::MarkUnsaved(const StoredStats& failed) {
  std::lock_guard lock(mu_);
  for (const StatsRunRecord& record : failed.runs) {
    auto node = nodes_.find(record.node_id);
    if (node == nodes_.end()) continue;
    if (!record.report) {
      if (auto f = node->second.folded.find(record.run_id); f != node->second.folded.end()) {
        f->second.unsaved = true;
      }
    } else if (auto r = node->second.runs.find(record.run_id); r != node->second.runs.end()) {
      r->second.unsaved = true;
    }
  }
  for (const StatsRetiredRecord& record : failed.retired) {
    if (auto node = nodes_.find(record.node_id); node != nodes_.end()) {
      node->second.retired_unsaved = true;
    }
  }
}

std::uint64_t StatsAggregator::DurableSequence(const std::string& node_id,
                                               std::uint64_t run_id) const {
  std::lock_guard lock(mu_);
  auto node = nodes_.find(node_id);
  return node == nodes_.end() ? 0 : DurableSequenceLocked(node->second, run_id);
}

std::uint64_t StatsAggregator::DurableSequenceLocked(const Node& node, std::uint64_t run_id) {
  if (auto f = node.folded.find(run_id); f != node.folded.end()) {
    return f->second.durable ? std::numeric_limits<std::uint64_t>::max() : f->second.sequence;
  }
  auto run = node.runs.find(run_id);
  return run == node.runs.end() ? 0 : run->second.durable;
}

void StatsAggregator::Compact() {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  for (auto& [id, node] : nodes_) {
    for (auto it = node.runs.begin(); it != node.runs.end();) {
      const Run& run = it->second;
      const auto silent = now - run.last_report_at;
      // A run without a final report is folded only when no stream carries it: wall-clock
      // silence alone would fold a live proxy that merely stopped reporting for a while, and its
      // later reports could no longer be counted (Ingest refuses them).
      const bool streamed = node.run_streams.count(it->first) != 0;
      const auto unheard = now - std::max(run.last_report_at, run.stream_ended_at);
      const bool finished = (run.final && silent >= kLiveIntervals * report_interval_) ||
                            (!streamed && unheard >= run_retention_);
      if (!finished || run.unsaved || run.durable != run.sequence) {
        ++it;
        continue;
      }
      node.retired += run.counts;
      node.retired_unsaved = true;
      node.folded[it->first] = {run.sequence, run.started_at, run.last_report_at, false, true};
      it = node.runs.erase(it);
    }
  }

  const std::int64_t first = WindowOf(retention_, now).first;
  auto drop = [first](auto& series) {
    for (auto it = series.begin(); it != series.end();) {
      it->second.DropBefore(first);
      it = it->second.empty() ? series.erase(it) : std::next(it);
    }
  };
  drop(cluster_series_);
  drop(route_series_);
  drop(endpoint_series_);
  drop(proxy_series_);
  drop(proxy_cluster_series_);
  drop(proxy_route_series_);
}

// ---- Loading ----

Result<void> StatsAggregator::Load(const StatsStore& store) {
  auto stored = store.LoadStats();
  if (!stored.ok()) return stored.error();
  std::map<std::string, Node, std::less<>> nodes;
  auto parse = [](const std::string& bytes, const std::string& what) -> Result<Report> {
    v1::StatsReport proto;
    if (!proto.ParseFromString(bytes)) {
      return StoreError{StoreErrorKind::kStorage,
                        "load stats: " + what + ": the stored report does not parse"};
    }
    auto report = Read(proto);
    if (!report.ok()) {
      return StoreError{StoreErrorKind::kStorage,
                        "load stats: " + what + ": " + report.error().message};
    }
    return report;
  };
  for (const StatsRunRecord& record : stored->runs) {
    Node& node = nodes[record.node_id];
    const std::string what =
        "run " + std::to_string(record.run_id) + " of node " + Quoted(record.node_id);
    if (!record.report) {
      node.folded[record.run_id] = {record.sequence, record.started_at, record.last_report_at, true,
                                    false};
      continue;
    }
    auto report = parse(*record.report, what);
    if (!report.ok()) return report.error();
    Run& run = node.runs[record.run_id];
    run.sequence = record.sequence;
    run.durable = record.sequence;
    run.started_at = record.started_at;
    run.last_report_at = record.last_report_at;
    run.final = report->final;
    run.counts = std::move(report->counts);
  }
  for (const StatsRetiredRecord& record : stored->retired) {
    auto report = parse(record.report, "retired counts of node " + Quoted(record.node_id));
    if (!report.ok()) return report.error();
    nodes[record.node_id].retired = std::move(report->counts);
  }
  std::lock_guard lock(mu_);
  nodes_ = std::move(nodes);
  return {};
}

}  // namespace hermes::controlplane
