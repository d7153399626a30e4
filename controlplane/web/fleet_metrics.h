// /metrics of the control plane: the fleet as its discovery streams and store see it.
#pragma once

#include <string>

#include "controlplane/discovery/discovery_server.h"
#include "controlplane/store/config_store.h"

namespace hermes::controlplane {

std::string FleetMetrics(const DiscoveryServer& discovery, const ConfigStore& store);

}  // namespace hermes::controlplane
