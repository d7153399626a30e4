// Output of `hermesctl backends` (each endpoint's health, ejections and recent traffic) and of
// `hermesctl health-events` (the control plane's health transitions).
#include <algorithm>

#include "ctl/number_text.h"
#include "ctl/render.h"
#include "ctl/table.h"
#include "ctl/time_text.h"
#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

std::string HealthWord(v1::EndpointHealth health) {
  switch (health) {
    case v1::UNCHECKED:
      return "unchecked";
    case v1::ENDPOINT_HEALTHY:
      return "healthy";
    case v1::ENDPOINT_UNHEALTHY:
      return "unhealthy";
    default:
      return "unknown";
  }
}

std::string Dash(const std::string& s, size_t max_width) {
  return s.empty() ? "-" : Truncate(s, max_width);
}

std::string InCluster(const std::string& cluster) {
  return cluster.empty() ? "" : " in cluster " + cluster;
}

Json RatesJson(const v1::WindowRates& rates) {
  Json j = Json::MakeObject();
  j.Set("window_seconds", Json(uint64_t{rates.window_seconds()}))
      .Set("requests", Json(uint64_t{rates.requests()}))
      .Set("request_rate", Json::Fixed(rates.request_rate(), 3))
      .Set("error_rate", Json::Fixed(rates.error_rate(), 4))
      .Set("p50_ms", Json::Fixed(rates.p50_ms(), 3))
      .Set("p99_ms", Json::Fixed(rates.p99_ms(), 3));
  return j;
}

Json EndpointJson(const v1::BackendEndpoint& e) {
  Json j = Json::MakeObject();
  j.Set("address", Json(e.address()))
      .Set("health", Json(HealthWord(e.health())))
      .Set("health_reason", Json(e.health_reason()))
      .Set("health_changed_at", TimeJson(e.health_changed_unix_ms()))
      .Set("proxies_reporting", Json(uint64_t{e.proxies_reporting()}))
      .Set("ejected_on", Json(uint64_t{e.ejected_on()}))
      .Set("active_requests", Json(int64_t{e.active_requests()}))
      .Set("rates", RatesJson(e.rates()));
  return j;
}

std::vector<std::string> EndpointRow(const std::string& cluster, const v1::BackendEndpoint& e,
                                     TimePoint now) {
  const v1::WindowRates& rates = e.rates();
  const bool traffic = rates.requests() > 0;
  return {Truncate(cluster, 32),
          Dash(e.address(), 64),
          HealthWord(e.health()),
          FormatAge(e.health_changed_unix_ms(), now),
          Dash(e.health_reason(), 40),
          e.proxies_reporting() == 0
              ? "-"
              : std::to_string(e.ejected_on()) + "/" + std::to_string(e.proxies_reporting()),
          std::to_string(e.active_requests()),
          FormatRate(rates.request_rate()),
          traffic ? FormatPercent(rates.error_rate()) : "-",
          traffic ? FormatLatency(rates.p99_ms()) : "-"};
}

}  // namespace

std::string RenderBackends(const v1::ListBackendsResponse& response, const BackendsArgs& args,
                           OutputFormat format, TimePoint now) {
  if (format != OutputFormat::kTable) {
    Json clusters = Json::MakeArray();
    for (const auto& c : response.clusters()) {
      Json endpoints = Json::MakeArray();
      for (const auto& e : c.endpoints()) endpoints.Push(EndpointJson(e));
      Json jc = Json::MakeObject();
      jc.Set("name", Json(c.name()))
          .Set("health_checked", Json(c.health_checked()))
          .Set("endpoints", std::move(endpoints));
      clusters.Push(std::move(jc));
    }
    Json j = Json::MakeObject();
    j.Set("clusters", std::move(clusters));
    return Document(j, format);
  }

  if (response.clusters().empty()) {
    return "no backends known to the control plane" + InCluster(args.cluster) + "\n";
  }
  // The window the rates cover: the one asked for, or less just after the control plane started.
  uint32_t window = 0;
  Table t{{"CLUSTER", "ADDRESS", "HEALTH", "CHANGED", "REASON", "EJECTED", "ACTIVE", "REQ/S",
           "ERR%", "P99"},
          {}};
  for (const auto& c : response.clusters()) {
    if (c.endpoints().empty()) {
      t.rows.push_back(
          {Truncate(c.name(), 32), "(no endpoints)", "-", "-", "-", "-", "-", "-", "-", "-"});
    }
    for (const auto& e : c.endpoints()) {
      window = std::max(window, e.rates().window_seconds());
      t.rows.push_back(EndpointRow(c.name(), e, now));
    }
  }
  std::string out;
  if (window > 0) {
    out = "rates over the last " + FormatDuration(std::chrono::seconds(window)) + "\n";
  }
  return out + RenderTable(t);
}

std::string RenderHealthEvents(const v1::ListHealthEventsResponse& response,
                               const HealthEventsArgs& args, OutputFormat format, TimePoint now) {
  const auto word = [](const v1::HealthEvent& e) { return e.healthy() ? "healthy" : "unhealthy"; };
  if (format != OutputFormat::kTable) {
    Json events = Json::MakeArray();
    for (const auto& e : response.events()) {
      Json je = Json::MakeObject();
      je.Set("cluster", Json(e.cluster()))
          .Set("address", Json(e.address()))
          .Set("health", Json(word(e)))
          .Set("reason", Json(e.reason()))
          .Set("at", TimeJson(e.at_unix_ms()));
      events.Push(std::move(je));
    }
    Json j = Json::MakeObject();
    j.Set("events", std::move(events));
    return Document(j, format);
  }

  if (response.events().empty()) {
    return "no health changes recorded" + InCluster(args.cluster) + "\n";
  }
  Table t{{"TIME", "AGE", "CLUSTER", "ADDRESS", "HEALTH", "REASON"}, {}};
  for (const auto& e : response.events()) {
    t.rows.push_back({FormatRfc3339(e.at_unix_ms()), FormatAge(e.at_unix_ms(), now),
                      Truncate(e.cluster(), 32), Dash(e.address(), 64), word(e),
                      Dash(e.reason(), 60)});
  }
  return RenderTable(t);
}

}  // namespace hermes::ctl
