#include "dataplane/discovery/config_assembler.h"

namespace hermes::dataplane {

using discovery::TypeIndex;

std::string ConfigAssembler::Accept(const v1::DiscoveryResponse& response) {
  // An open proto3 enum: any number may arrive, and only these four have a slot.
  if (!known(response.type()))
    return "unknown resource type " + std::to_string(static_cast<int>(response.type()));
  size_t i = TypeIndex(response.type());
  resources_[i].clear();
  for (const auto& r : response.resources()) resources_[i][r.name()] = r;
  versions_[i] = response.version_info();
  received_[i] = true;
  return "";
}

void ConfigAssembler::Load(const v1::Config& config) {
  discovery::ResourceSet set = discovery::BuildResources(config);
  for (v1::ResourceType t : discovery::kTypeOrder) {
    v1::DiscoveryResponse r;
    r.set_type(t);
    r.set_version_info(discovery::SetVersion(set.of(t).resources));
    for (const auto& res : set.of(t).resources) *r.add_resources() = res;
    Accept(r);
  }
}

discovery::UnhealthyEndpoints ConfigAssembler::Unhealthy() const {
  discovery::UnhealthyEndpoints out;
  for (const auto& [name, r] : resources_[TypeIndex(v1::ENDPOINTS)]) {
    for (const auto& [address, healthy] : r.endpoints().healthy())
      if (!healthy) out[name].insert(address);
  }
  return out;
}

std::optional<v1::Config> ConfigAssembler::Assemble(std::string* why_not) const {
  for (v1::ResourceType t : discovery::kTypeOrder) {
    if (!received_[TypeIndex(t)]) {
      *why_not = "no " + v1::ResourceType_Name(t) + " received yet";
      return std::nullopt;
    }
  }
  v1::Config config;
  const auto& endpoints = resources_[TypeIndex(v1::ENDPOINTS)];
  for (const auto& [name, r] : resources_[TypeIndex(v1::CLUSTERS)]) {
    auto eps = endpoints.find(name);
    if (eps == endpoints.end()) {
      *why_not = "cluster " + name + " has no endpoints yet";
      return std::nullopt;
    }
    v1::Cluster& c = *config.add_clusters();
    c = r.cluster();
    *c.mutable_endpoints() = eps->second.endpoints().endpoints();
  }
  for (const auto& [_, r] : resources_[TypeIndex(v1::ROUTES)]) {
    for (const auto& route : r.routes().routes()) {
      if (!resources_[TypeIndex(v1::CLUSTERS)].contains(route.cluster())) {
        *why_not = "route " + route.name() + " uses cluster " + route.cluster() + ", not received yet";
        return std::nullopt;
      }
      *config.add_routes() = route;
    }
  }
  for (const auto& [_, r] : resources_[TypeIndex(v1::LISTENERS)]) {
    *config.mutable_listeners() = r.listeners().listeners();
    *config.mutable_admin() = r.listeners().admin();
    // The fleet's key: every proxy of the fleet computes the same sticky-session ids.
    config.set_sticky_secret(r.listeners().sticky_secret());
  }
  return config;
}

}  // namespace hermes::dataplane
