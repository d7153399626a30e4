// Compiles routes and links them to their clusters. A route points to a compiled cluster, so a
// cluster recompile re-links the routes (cheap) without recompiling them.
#pragma once

#include <memory>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

// A route with defaults applied and valid; its `cluster` is left unlinked (null).
Route CompileRoute(const hermes::v1::Route& route, StatsStore& stats);

// Copies `routes` with each `cluster` pointing to its cluster (by cluster_name) in `clusters`; a
// route to an unknown cluster keeps a null cluster (the session answers 503).
std::vector<Route> LinkRoutes(const std::vector<Route>& routes,
                              const std::vector<std::shared_ptr<Cluster>>& clusters);

}  // namespace hermes::dataplane
