// Compiles one cluster: its settings, its endpoints (with their shared state from the registry
// and their addresses) and one balancer per worker. The applier calls it for the clusters that
// changed; the others keep their compiled object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "dataplane/lb/sticky_id.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

struct ClusterCompileContext {
  const ResolvedHosts& hosts;
  lb::StickyIds& sticky_ids;  // keyed with the config's sticky_secret (or the run's)
  StatsStore& stats;          // one balancer per stats.workers()
  EndpointStateRegistry& registry;
  uint64_t seed;  // of the balancers' random choices
};

// `source` has defaults applied and is valid. Host names absent from `hosts` get no addresses:
// connecting to them fails with 502 until the resolver fills them in.
std::shared_ptr<Cluster> CompileCluster(std::shared_ptr<const hermes::v1::Cluster> source,
                                        ClusterCompileContext& context);

// The addresses an endpoint connects to: an IP literal's own, a host name's from `hosts`
// (none while it is not resolved).
std::vector<tcp::endpoint> EndpointAddresses(const HostPort& host_port, std::string_view address,
                                             const ResolvedHosts& hosts);

}  // namespace hermes::dataplane
