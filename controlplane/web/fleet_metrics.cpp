#include "controlplane/web/fleet_metrics.h"

#include <map>
#include <string>

#include "hermes/common/prometheus.h"

namespace hermes::controlplane {

std::string FleetMetrics(const DiscoveryServer& discovery, const VersionStore& versions,
                         const HealthMonitor* health, const StatsAggregator* stats) {
  PrometheusWriter w;
  int64_t connected = 0, in_sync = 0, nacked = 0;
  for (const StreamStatus& s : discovery.Proxies()) {
    if (!s.connected) continue;
    ++connected;
    in_sync += s.in_sync;
    nacked += s.last_nack && !s.in_sync;
  }
  w.Family("hermes_controlplane_proxies_connected", "gauge", "Proxies with an open discovery stream.");
  w.Sample("hermes_controlplane_proxies_connected", {}, connected);
  w.Family("hermes_controlplane_proxies_synced", "gauge", "Connected proxies that ACKed the current config.");
  w.Sample("hermes_controlplane_proxies_synced", {}, in_sync);
  w.Family("hermes_controlplane_proxies_nacked", "gauge", "Connected proxies that refused the config they were sent.");
  w.Sample("hermes_controlplane_proxies_nacked", {}, nacked);
  auto current = versions.CurrentHeader();
  int64_t newest = current && current.value() ? current.value()->id : 0;
  w.Family("hermes_controlplane_config_version", "gauge", "The newest stored config version (0: none).");
  w.Sample("hermes_controlplane_config_version", {}, newest);
  // Each version run by a connected proxy, and how many run it (two during a rollout).
  std::map<int64_t, int64_t> running;
  for (const StreamStatus& s : discovery.Proxies())
    if (s.connected) ++running[s.running_version];
  w.Family("hermes_controlplane_proxies_running_version", "gauge",
           "Connected proxies by the stored version they ACKed completely (0: none yet).");
  for (const auto& [v, n] : running) w.Sample("hermes_controlplane_proxies_running_version", {{"version", std::to_string(v)}}, n);
  std::string out = w.text();
  if (health) {
    PrometheusWriter h;
    h.Family("hermes_controlplane_endpoint_healthy", "gauge",
             "1 when the control plane's health checker finds the endpoint healthy (checked clusters).");
    for (const auto& [key, v] : health->View()) {
      if (!v.checked) continue;
      h.Sample("hermes_controlplane_endpoint_healthy", {{"cluster", key.first}, {"endpoint", key.second}},
               int64_t{v.healthy ? 1 : 0});
    }
    h.Family("hermes_controlplane_health_transitions_total", "counter",
             "Health transitions seen by the control plane's checker since it started.");
    h.Sample("hermes_controlplane_health_transitions_total", {}, health->transitions());
    out += h.text();
  }
  if (stats) stats->AppendPrometheus(out);
  return out;
}

}  // namespace hermes::controlplane
