// The config applier: turns a config change into the next Snapshot, compiling only what
// changed. A changed cluster is recompiled alone; the others stay the same object, so their
// balancers (round-robin position, ring, maglev table), shared state and stats go on, and the
// workers' pools (keyed by endpoint state) keep their connections. A route-only change re-links
// the routes to the clusters it already has. Clusters compare by their proto bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

// What an update changes, resource by resource (the managed proxy's discovery updates), as
// received: defaults are not applied yet.
struct ConfigChanges {
  std::vector<hermes::v1::Cluster> clusters;  // added or changed, endpoints included
  std::vector<std::string> removed_clusters;
  // The whole route table (first match wins, so it is one resource), when it changed.
  std::optional<google::protobuf::RepeatedPtrField<hermes::v1::Route>> routes;
  // Listeners, admin and sticky_secret (the listener settings resource), when they changed.
  std::optional<hermes::v1::Config> listeners;

  bool empty() const {
    return clusters.empty() && removed_clusters.empty() && !routes && !listeners;
  }
};

struct ApplyResult {
  std::vector<std::string> errors;  // nothing was applied when not empty
  // The snapshot to publish; null when there is nothing new (errors, or no change).
  SnapshotPtr snapshot;
  std::vector<std::string> compiled_clusters;  // names of the clusters compiled for it
};

class ConfigApplier {
 public:
  // `first_generation`: the generation of the first snapshot (each next one counts up).
  ConfigApplier(StatsStore& stats, EndpointStateRegistry& registry, uint64_t first_generation = 1)
      : stats_(stats), registry_(registry), generation_(first_generation - 1) {}

  // A whole config (defaults applied, valid: the standalone file, a reload), compared cluster
  // by cluster, then routes and listeners, with the applied one.
  ApplyResult ApplyConfig(const hermes::v1::Config& config, const ResolvedHosts& hosts);

  // A managed proxy's update: defaults applied to and validation of what changed (errors name
  // the place in the config it makes: "clusters[3].endpoints[0].address: ..."), the rest kept.
  ApplyResult ApplyChanges(ConfigChanges changes, const ResolvedHosts& hosts);

  // Recompiles the clusters whose endpoints' addresses in `hosts` differ from the ones they were
  // compiled with (a name resolved, or resolving to other addresses now).
  ApplyResult ApplyResolved(const ResolvedHosts& hosts);

  // The last snapshot made (null before the first apply).
  const SnapshotPtr& current() const { return current_; }

 private:
  struct Listeners {
    hermes::v1::Config settings;  // listeners, admin, sticky_secret only
    std::vector<ListenerSettings> compiled;
  };
  struct Routes {
    std::shared_ptr<const RouteSource> source;
    std::vector<Route> compiled;  // not linked
  };
  // The next state being built; moved into the applier's fields once it compiled.
  struct Next {
    std::vector<std::shared_ptr<const hermes::v1::Cluster>> clusters;  // in config order
    Routes routes;
    Listeners listeners;
    bool listeners_changed = false;
  };

  // Compiles the clusters of `next` that are new, differ from the compiled ones or are named
  // in `recompile`, links the routes and makes the snapshot.
  ApplyResult Build(Next next, const ResolvedHosts& hosts,
                    const std::unordered_set<std::string>& recompile = {});
  Routes CompileRoutes(google::protobuf::RepeatedPtrField<hermes::v1::Route> routes);
  Listeners CompileListeners(hermes::v1::Config settings);
  Next CurrentParts() const;

  StatsStore& stats_;
  EndpointStateRegistry& registry_;
  uint64_t generation_ = 0;
  SnapshotPtr current_;
  Routes routes_;
  Listeners listeners_;
  std::string routes_bytes_;     // of routes_.source
  std::string listeners_bytes_;  // of listeners_.settings
  struct Compiled {
    std::string bytes;  // of cluster->source
    std::shared_ptr<Cluster> cluster;
  };
  std::unordered_map<std::string, Compiled> compiled_;  // the current snapshot's, by name
};

}  // namespace hermes::dataplane
