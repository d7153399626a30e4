// What the admin endpoints answer, once admin_access.cpp let the request through: views over the
// server's snapshot and stats, and the reload.
#include <google/protobuf/util/json_util.h>

#include "dataplane/admin/admin_server.h"
#include "dataplane/server/server.h"
#include "hermes/common/json.h"
#include "hermes/common/prometheus.h"

namespace hermes::dataplane {
namespace {

const char* BreakerName(BreakerState s) {
  switch (s) {
    case BreakerState::kOpen:
      return "OPEN";
    case BreakerState::kHalfOpen:
      return "HALF-OPEN";
    default:
      return "CLOSED";
  }
}

struct Totals {
  uint64_t requests = 0;
  uint64_t failed = 0;  // answered 5xx, or not answered at all
  int64_t active = 0;
};

Totals SumClusters(Server& server) {
  Totals t;
  server.stats().ForEachCluster([&](const TrafficStats& s) {
    for (const auto& shard : s.shards) {
      for (size_t c = 0; c < shard.responses_by_class.size(); ++c) {
        uint64_t n = shard.responses_by_class[c].Get();
        t.requests += n;
        if (c == 0 || c == 5) t.failed += n;
      }
      t.active += shard.active_requests.Get();
    }
  });
  return t;
}

AdminResponse Health(const Snapshot& snap) {
  size_t total = 0, healthy = 0;
  for (const auto& c : snap.clusters) {
    for (const auto& e : c->endpoints) {
      ++total;
      healthy += Available(*e.state);
    }
  }
  const char* status = healthy == total ? "healthy" : healthy == 0 ? "unhealthy" : "degraded";
  AdminResponse r;
  r.status = healthy == 0 ? 503 : 200;
  r.body = std::string("{\"status\":\"") + status + "\",\"healthy_backends\":" + std::to_string(healthy) +
           ",\"total_backends\":" + std::to_string(total) + "}\n";
  return r;
}

AdminResponse Backends(const Snapshot& snap) {
  AdminResponse r;
  r.body = "[";
  bool first = true;
  for (const auto& c : snap.clusters) {
    for (const auto& e : c->endpoints) {
      if (!first) r.body += ",";
      first = false;
      r.body += "{\"address\":";
      AppendJsonString(r.body, e.address);
      r.body += ",\"cluster\":";
      AppendJsonString(r.body, c->name);
      r.body += ",\"healthy\":";
      // healthy: what the balancer uses (health checks and outlier ejection together).
      r.body += Available(*e.state) ? "true" : "false";
      r.body += ",\"ejected\":";
      r.body += e.state->outlier.ejected() ? "true" : "false";
      r.body += ",\"times_ejected\":" + std::to_string(e.state->outlier.times_ejected());
      r.body += ",\"circuit\":\"";
      r.body += BreakerName(e.state->breaker.State(c->breaker, std::chrono::steady_clock::now()));
      r.body += "\"";
      r.body += ",\"connections\":" + std::to_string(e.state->active_requests.load());
      r.body += ",\"weight\":" + std::to_string(e.weight) + "}";
    }
  }
  r.body += "]\n";
  return r;
}

AdminResponse Circuits(const Snapshot& snap) {
  AdminResponse r;
  r.body = "{";
  bool first = true;
  for (const auto& c : snap.clusters) {
    for (const auto& e : c->endpoints) {
      if (!first) r.body += ",";
      first = false;
      AppendJsonString(r.body, e.address);
      r.body += ":\"";
      r.body += BreakerName(e.state->breaker.State(c->breaker, std::chrono::steady_clock::now()));
      r.body += "\"";
    }
  }
  r.body += "}\n";
  return r;
}

void WriteTraffic(PrometheusWriter& w, Server& server, bool routes) {
  const std::string_view label = routes ? "route" : "cluster";
  const std::string prefix = routes ? "hermes_route_" : "hermes_cluster_";
  static constexpr const char* kClasses[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
  auto each = [&](auto&& f) {
    if (routes) server.stats().ForEachRoute(f);
    else server.stats().ForEachCluster(f);
  };
  w.Family(prefix + "requests_total", "counter",
           "Requests by response status class (none: no response was sent).");
  each([&](const TrafficStats& s) {
    for (size_t c = 0; c < 6; ++c) {
      uint64_t n = 0;
      for (const auto& sh : s.shards) n += sh.responses_by_class[c].Get();
      w.Sample(prefix + "requests_total", {{label, s.name}, {"class", kClasses[c]}}, n);
    }
  });
  w.Family(prefix + "request_duration_seconds", "histogram",
           "Time from the request head to the end of the response.");
  each([&](const TrafficStats& s) {
    uint64_t cumulative = 0, sum_us = 0;
    for (size_t b = 0; b <= kLatencyBucketsUs.size(); ++b) {
      for (const auto& sh : s.shards) cumulative += sh.latency_buckets[b].Get();
      std::string le = b < kLatencyBucketsUs.size() ? std::to_string(kLatencyBucketsUs[b] / 1e6) : "+Inf";
      w.Sample(prefix + "request_duration_seconds_bucket", {{label, s.name}, {"le", le}}, cumulative);
    }
    for (const auto& sh : s.shards) sum_us += sh.latency_sum_us.Get();
    w.Sample(prefix + "request_duration_seconds_sum", {{label, s.name}}, static_cast<double>(sum_us) / 1e6);
    w.Sample(prefix + "request_duration_seconds_count", {{label, s.name}}, cumulative);
  });
  w.Family(prefix + "active_requests", "gauge", "Requests in flight.");
  each([&](const TrafficStats& s) {
    int64_t n = 0;
    for (const auto& sh : s.shards) n += sh.active_requests.Get();
    w.Sample(prefix + "active_requests", {{label, s.name}}, n);
  });
  if (routes) return;
  auto counter = [&](const char* name, const char* help, auto member) {
    w.Family(std::string("hermes_cluster_") + name, "counter", help);
    each([&](const TrafficStats& s) {
      uint64_t n = 0;
      for (const auto& sh : s.shards) n += (sh.*member).Get();
      w.Sample(std::string("hermes_cluster_") + name, {{"cluster", s.name}}, n);
    });
  };
  counter("upstream_connect_errors_total", "Failed connection attempts to endpoints.",
          &TrafficShard::upstream_connect_errors);
  counter("upstream_timeouts_total", "Connect or response timeouts.", &TrafficShard::upstream_timeouts);
  counter("pool_reused_total", "Requests sent on a kept-alive upstream connection.", &TrafficShard::pool_reused);
  counter("pool_created_total", "Upstream connections opened.", &TrafficShard::pool_created);
  counter("upstream_retries_total", "Tries after the first.", &TrafficShard::upstream_retries);
  counter("upstream_retry_overflow_total", "Retries refused by the retry budget or max_retries.",
          &TrafficShard::upstream_retry_overflow);
  counter("upstream_overflow_total", "Requests refused by a cluster limit (503, x-hermes-overloaded).",
          &TrafficShard::upstream_overflow);
  counter("breaker_rejections_total", "Endpoint picks skipped because the endpoint's breaker was open.",
          &TrafficShard::breaker_rejections);
}

AdminResponse Metrics(Server& server, const Snapshot& snap) {
  PrometheusWriter w;
  WriteTraffic(w, server, /*routes=*/true);
  WriteTraffic(w, server, /*routes=*/false);
  w.Family("hermes_listener_active_connections", "gauge", "Open client connections.");
  server.stats().ForEachListener([&](const ListenerStats& s) {
    int64_t n = 0;
    for (const auto& sh : s.shards) n += sh.active_connections.Get();
    w.Sample("hermes_listener_active_connections", {{"listener", s.name}}, n);
  });
  auto counter = [&](const char* name, const char* help, auto member) {
    w.Family(std::string("hermes_listener_") + name, "counter", help);
    server.stats().ForEachListener([&](const ListenerStats& s) {
      uint64_t n = 0;
      for (const auto& sh : s.shards) n += (sh.*member).Get();
      w.Sample(std::string("hermes_listener_") + name, {{"listener", s.name}}, n);
    });
  };
  counter("connections_total", "Client connections accepted.", &ListenerShard::connections_accepted);
  counter("requests_total", "Request heads received.", &ListenerShard::requests);
  counter("rejected_requests_total", "Requests answered by Hermes itself (bad input, limits, no route).",
          &ListenerShard::rejected_requests);
  w.Family("hermes_endpoint_active_requests", "gauge", "Requests in flight per endpoint.");
  for (const auto& c : snap.clusters) {
    for (const auto& e : c->endpoints)
      w.Sample("hermes_endpoint_active_requests", {{"cluster", c->name}, {"endpoint", e.address}},
               static_cast<int64_t>(e.state->active_requests.load()));
  }
  w.Family("hermes_endpoint_healthy", "gauge", "1 when the endpoint is considered healthy.");
  for (const auto& c : snap.clusters) {
    for (const auto& e : c->endpoints)
      w.Sample("hermes_endpoint_healthy", {{"cluster", c->name}, {"endpoint", e.address}},
               static_cast<int64_t>(e.state->healthy.load()));
  }
  w.Family("hermes_endpoint_ejected", "gauge", "1 while outlier detection ejects the endpoint.");
  for (const auto& c : snap.clusters) {
    for (const auto& e : c->endpoints)
      w.Sample("hermes_endpoint_ejected", {{"cluster", c->name}, {"endpoint", e.address}},
               static_cast<int64_t>(e.state->outlier.ejected()));
  }
  w.Family("hermes_endpoint_circuit_state", "gauge", "Breaker state: 0 closed, 1 open, 2 half-open.");
  auto now = std::chrono::steady_clock::now();
  for (const auto& c : snap.clusters) {
    for (const auto& e : c->endpoints)
      w.Sample("hermes_endpoint_circuit_state", {{"cluster", c->name}, {"endpoint", e.address}},
               static_cast<int64_t>(e.state->breaker.State(c->breaker, now)));
  }
  AdminResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = w.text();
  return r;
}

}  // namespace

AdminResponse AdminError(unsigned status, std::string_view message) {
  AdminResponse r;
  r.status = status;
  r.body = "{\"error\":";
  AppendJsonString(r.body, message);
  r.body += "}\n";
  return r;
}

AdminResponse RenderAdmin(Server& server, const AdminRequest& request) {
  if (auto refusal = RefuseAdminRequest(request, server.AdminToken())) return *std::move(refusal);
  const std::string_view path = request.path;
  if (path == "/reload") {
    auto errors = server.Reload();
    AdminResponse r;
    if (errors.empty()) {
      r.body = "{\"status\":\"reloaded\"}\n";
      return r;
    }
    r.status = 400;
    r.body = "{\"status\":\"refused\",\"errors\":[";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i) r.body += ",";
      AppendJsonString(r.body, errors[i]);
    }
    r.body += "]}\n";
    return r;
  }
  SnapshotPtr snap = server.snapshot();
  if (path == "/healthz") return {200, "text/plain", "ok\n"};
  if (path == "/ready") {
    if (server.ready()) return {200, "text/plain", "ready\n"};
    return {503, "text/plain", server.draining() ? "draining\n" : "not ready\n"};
  }
  if (path == "/drain") {
    // Checked in this order: drained() implies draining().
    const char* state = server.drained() ? "drained" : server.draining() ? "draining" : "serving";
    return {200, "application/json",
            std::string("{\"state\":\"") + state + "\",\"active_connections\":" +
                std::to_string(server.ActiveConnections()) + "}\n"};
  }
  if (!snap) return AdminError(503, "no config loaded");
  if (path == "/metrics") return Metrics(server, *snap);
  if (path == "/health") return Health(*snap);
  if (path == "/backends") return Backends(*snap);
  if (path == "/circuits") return Circuits(*snap);
  if (path == "/stats") {
    Totals t = SumClusters(server);
    return {200, "application/json",
            "{\"total_requests\":" + std::to_string(t.requests) + ",\"active_requests\":" +
                std::to_string(t.active) + ",\"failed_requests\":" + std::to_string(t.failed) + "}\n"};
  }
  if (path == "/config") {
    AdminResponse r;
    google::protobuf::util::JsonPrintOptions opts;
    opts.add_whitespace = true;
    opts.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(RedactedConfig(snap->config), &r.body, opts);
    return r;
  }
  return AdminError(404, "unknown admin path; see /healthz /ready /drain /metrics /config /health /backends /stats /circuits, POST /reload");
}

}  // namespace hermes::dataplane
