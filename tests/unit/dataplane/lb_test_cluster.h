// What the balancer tests share: a cluster built by hand with the given weights, and a switch
// for an endpoint's availability (as health checks and outlier detection flip it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"

namespace hermes::dataplane::lb {

inline std::unique_ptr<Cluster> MakeCluster(v1::LbPolicy policy, const std::vector<uint32_t>& weights) {
  auto cluster = std::make_unique<Cluster>();
  cluster->lb_policy = policy;
  cluster->state = std::make_shared<ClusterState>();
  for (size_t i = 0; i < weights.size(); ++i) {
    Endpoint ep;
    ep.address = "10.0.0." + std::to_string(i + 1) + ":80";
    ep.weight = weights[i];
    ep.state = std::make_shared<EndpointState>();
    cluster->total_weight += ep.weight;
    cluster->endpoints.push_back(std::move(ep));
  }
  return cluster;
}

inline void SetAvailable(Cluster& cluster, size_t endpoint, bool available) {
  cluster.endpoints[endpoint].state->healthy = available;
  cluster.state->availability_epoch.fetch_add(1);
}

}  // namespace hermes::dataplane::lb
