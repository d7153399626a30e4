#include "dataplane/discovery/config_assembler.h"

namespace hermes::dataplane {

using discovery::TypeIndex;

namespace {

bool SameResource(const v1::Resource& a, const v1::Resource& b) {
  // A resource's own `version` is the control plane's word; the bytes are the proxy's.
  return a.SerializeAsString() == b.SerializeAsString();
}

}  // namespace

std::string ConfigAssembler::Accept(const v1::DiscoveryResponse& response) {
  std::string refused = AcceptRevertibly(response);
  replaced_.reset();
  return refused;
}

std::string ConfigAssembler::AcceptRevertibly(const v1::DiscoveryResponse& response) {
  replaced_.reset();
  // An open proto3 enum: any number may arrive, and only these four have a slot.
  if (!known(response.type()))
    return "unknown resource type " + std::to_string(static_cast<int>(response.type()));
  size_t i = TypeIndex(response.type());
  Replaced replaced{i, std::move(resources_[i]), versions_[i], received_[i], dirty_};
  resources_[i].clear();
  for (const auto& r : response.resources()) resources_[i][r.name()] = r;
  versions_[i] = response.version_info();
  received_[i] = true;

  const auto& before = replaced.resources;
  const auto& after = resources_[i];
  bool differs = before.size() != after.size();
  for (const auto& [name, r] : after) {
    auto old = before.find(name);
    if (old != before.end() && SameResource(old->second, r)) continue;
    differs = true;
    if (response.type() == v1::CLUSTERS || response.type() == v1::ENDPOINTS)
      dirty_.clusters.insert(name);
  }
  for (const auto& [name, _] : before) {
    if (after.contains(name)) continue;
    differs = true;
    if (response.type() == v1::CLUSTERS || response.type() == v1::ENDPOINTS)
      dirty_.clusters.insert(name);
  }
  if (differs && response.type() == v1::ROUTES) dirty_.routes = true;
  if (differs && response.type() == v1::LISTENERS) dirty_.listeners = true;
  replaced_ = std::move(replaced);
  return "";
}

void ConfigAssembler::Revert() {
  if (!replaced_) return;
  resources_[replaced_->type] = std::move(replaced_->resources);
  versions_[replaced_->type] = std::move(replaced_->version);
  received_[replaced_->type] = replaced_->received;
  dirty_ = std::move(replaced_->dirty);
  replaced_.reset();
}

void ConfigAssembler::MarkApplied() { dirty_ = {}; }

std::string ConfigAssembler::WhyNotConsistent() const {
  for (v1::ResourceType t : discovery::kTypeOrder) {
    if (!received_[TypeIndex(t)]) return "no " + v1::ResourceType_Name(t) + " received yet";
  }
  const auto& clusters = resources_[TypeIndex(v1::CLUSTERS)];
  const auto& endpoints = resources_[TypeIndex(v1::ENDPOINTS)];
  for (const auto& [name, _] : clusters) {
    if (!endpoints.contains(name)) return "cluster " + name + " has no endpoints yet";
  }
  for (const auto& [_, r] : resources_[TypeIndex(v1::ROUTES)]) {
    for (const auto& route : r.routes().routes()) {
      if (!clusters.contains(route.cluster()))
        return "route " + route.name() + " uses cluster " + route.cluster() + ", not received yet";
    }
  }
  return "";
}

std::optional<ConfigChanges> ConfigAssembler::Changes(std::string* why_not) const {
  if (std::string why = WhyNotConsistent(); !why.empty()) {
    *why_not = std::move(why);
    return std::nullopt;
  }
  ConfigChanges changes;
  const auto& clusters = resources_[TypeIndex(v1::CLUSTERS)];
  const auto& endpoints = resources_[TypeIndex(v1::ENDPOINTS)];
  for (const auto& name : dirty_.clusters) {
    auto c = clusters.find(name);
    if (c == clusters.end()) {
      changes.removed_clusters.push_back(name);  // (or endpoints of a cluster never received)
      continue;
    }
    v1::Cluster& cluster = changes.clusters.emplace_back(c->second.cluster());
    *cluster.mutable_endpoints() = endpoints.at(name).endpoints().endpoints();
  }
  if (dirty_.routes) {
    auto& routes = changes.routes.emplace();
    for (const auto& [_, r] : resources_[TypeIndex(v1::ROUTES)])
      for (const auto& route : r.routes().routes()) *routes.Add() = route;
  }
  if (dirty_.listeners) {
    v1::Config& settings = changes.listeners.emplace();
    for (const auto& [_, r] : resources_[TypeIndex(v1::LISTENERS)]) {
      *settings.mutable_listeners() = r.listeners().listeners();
      *settings.mutable_admin() = r.listeners().admin();
      settings.set_sticky_secret(r.listeners().sticky_secret());
    }
  }
  return changes;
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
  MarkApplied();
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
  if (std::string why = WhyNotConsistent(); !why.empty()) {
    *why_not = std::move(why);
    return std::nullopt;
  }
  v1::Config config;
  const auto& endpoints = resources_[TypeIndex(v1::ENDPOINTS)];
  for (const auto& [name, r] : resources_[TypeIndex(v1::CLUSTERS)]) {
    v1::Cluster& c = *config.add_clusters();
    c = r.cluster();
    *c.mutable_endpoints() = endpoints.at(name).endpoints().endpoints();
  }
  for (const auto& [_, r] : resources_[TypeIndex(v1::ROUTES)]) {
    for (const auto& route : r.routes().routes()) *config.add_routes() = route;
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
