#include "controlplane/rollout/config_union.h"

#include <map>
#include <set>
#include <string>

namespace hermes::controlplane {

v1::Config ConfigUnion(const v1::Config& first, const v1::Config* second) {
  v1::Config out = first;
  if (!second) return out;
  std::map<std::string, v1::Cluster*> clusters;
  for (v1::Cluster& c : *out.mutable_clusters()) clusters.emplace(c.name(), &c);
  for (const v1::Cluster& c : second->clusters()) {
    auto it = clusters.find(c.name());
    if (it == clusters.end()) {
      *out.add_clusters() = c;
      continue;
    }
    // The stricter side checks: a cluster the rollout's version checks is checked for both.
    if (!it->second->health_check().enabled() && c.health_check().enabled())
      *it->second->mutable_health_check() = c.health_check();
    std::set<std::string> have;
    for (const v1::Endpoint& e : it->second->endpoints()) have.insert(e.address());
    for (const v1::Endpoint& e : c.endpoints()) {
      if (have.insert(e.address()).second) *it->second->add_endpoints() = e;
    }
  }
  std::set<std::string> routes;
  for (const v1::Route& r : out.routes()) routes.insert(r.name());
  for (const v1::Route& r : second->routes()) {
    if (routes.insert(r.name()).second) *out.add_routes() = r;
  }
  return out;
}

}  // namespace hermes::controlplane
