// /metrics of the control plane: the fleet as its discovery streams and store see it.
#pragma once

#include <string>

#include "controlplane/discovery/discovery_server.h"
#include "controlplane/health/health_monitor.h"
#include "controlplane/stats/stats_aggregator.h"
#include "controlplane/store/version_store.h"

namespace hermes::controlplane {

// `health` and `stats` may be null.
std::string FleetMetrics(const DiscoveryServer& discovery, const VersionStore& versions,
                         const HealthMonitor* health = nullptr, const StatsAggregator* stats = nullptr);

}  // namespace hermes::controlplane
