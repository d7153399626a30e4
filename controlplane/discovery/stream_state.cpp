#include "controlplane/discovery/stream_state.h"

#include <algorithm>
#include <type_traits>

namespace hermes::controlplane {
namespace {

std::set<std::string> RouteClusters(const v1::Resource& routes) {
  std::set<std::string> used;
  for (const auto& r : routes.routes().routes()) used.insert(r.cluster());
  return used;
}

}  // namespace

std::vector<v1::DiscoveryResponse> StreamState::SetDesired(std::shared_ptr<const ResourceSet> desired) {
  desired_ = std::move(desired);
  has_desired_ = true;
  return Pump();
}

std::set<std::string> StreamState::ClustersUsedByAckedRoutes() const {
  std::set<std::string> used;
  for (const auto& [_, r] : types_[TypeIndex(v1::ROUTES)].acked) used.merge(RouteClusters(r));
  return used;
}

std::optional<std::vector<v1::Resource>> StreamState::Wanted(v1::ResourceType t) const {
  const TypeState& clusters = types_[TypeIndex(v1::CLUSTERS)];
  const TypeState& endpoints = types_[TypeIndex(v1::ENDPOINTS)];
  const TypeState& routes = types_[TypeIndex(v1::ROUTES)];
  const std::vector<v1::Resource>& desired = desired_->of(t).resources;  // sorted by name
  std::vector<v1::Resource> want = desired;

  // Keep what the proxy's ACKed routes still use (break after make).
  if (t == v1::CLUSTERS || t == v1::ENDPOINTS) {
    const TypeState& self = types_[TypeIndex(t)];
    const auto by_name = [](const v1::Resource& r, const std::string& name) { return r.name() < name; };
    bool kept_any = false;
    for (const std::string& name : ClustersUsedByAckedRoutes()) {
      auto at = std::lower_bound(desired.begin(), desired.end(), name, by_name);
      const bool present = at != desired.end() && at->name() == name;
      auto kept = self.acked.find(name);
      if (!present && kept != self.acked.end()) {
        want.push_back(kept->second);
        kept_any = true;
      }
    }
    if (kept_any)
      std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.name() < b.name(); });
  }
  if (t == v1::ENDPOINTS) {
    // Endpoints only for clusters the proxy has.
    if (clusters.pending_nonce) return std::nullopt;
    for (const auto& r : want) {
      if (!clusters.acked.contains(r.name())) return std::nullopt;
    }
  }
  if (t == v1::ROUTES) {
    if (clusters.pending_nonce || endpoints.pending_nonce) return std::nullopt;
    for (const auto& r : want) {
      for (const std::string& name : RouteClusters(r)) {
        if (!clusters.acked.contains(name) || !endpoints.acked.contains(name)) return std::nullopt;
      }
    }
  }
  if (t == v1::LISTENERS) {
    if (routes.pending_nonce) return std::nullopt;
    if (routes.subscribed && routes.acked_version != desired_->version(v1::ROUTES))
      return std::nullopt;
  }
  return want;
}

std::optional<std::string> StreamState::PlainVersion(v1::ResourceType t,
                                                     const std::set<std::string>& used) const {
  if (t == v1::CLUSTERS || t == v1::ENDPOINTS) {
    const TypeState& self = types_[TypeIndex(t)];
    const auto& desired = desired_->of(t).resources;
    for (const std::string& name : used) {
      bool present = std::binary_search(desired.begin(), desired.end(), name, [](const auto& a, const auto& b) {
        if constexpr (std::is_same_v<std::decay_t<decltype(a)>, std::string>) {
          return a < b.name();
        } else {
          return a.name() < b;
        }
      });
      if (!present && self.acked.contains(name)) return std::nullopt;  // kept: not plain
    }
  }
  return desired_->version(t);
}

std::vector<v1::DiscoveryResponse> StreamState::Pump() {
  std::vector<v1::DiscoveryResponse> out;
  if (!has_desired_) return out;
  const std::set<std::string> used = ClustersUsedByAckedRoutes();
  for (v1::ResourceType t : kTypeOrder) {
    TypeState& s = types_[TypeIndex(t)];
    if (!s.subscribed || s.pending_nonce) continue;
    // Fast path (every stream on every publish): a type the proxy already has is skipped
    // without building what it would carry.
    if (std::optional<std::string> plain = PlainVersion(t, used);
        plain && *plain == s.acked_version && !s.acked.empty()) {
      continue;
    }
    std::optional<std::vector<v1::Resource>> want = Wanted(t);
    if (!want) continue;
    std::string version = SetVersion(*want);
    if (version == s.acked_version) {
      // Claimed at subscription (the proxy already runs it): now we know what that is.
      if (s.acked.empty())
        for (const auto& r : *want) s.acked.emplace(r.name(), r);
      continue;
    }
    if (s.nacked.contains(version)) continue;
    v1::DiscoveryResponse response;
    response.set_type(t);
    response.set_version_info(version);
    response.set_nonce(std::to_string(next_nonce_++));
    for (const auto& r : *want) *response.add_resources() = r;
    s.pending_nonce = response.nonce();
    s.pending_version = version;
    s.pending_config_version = desired_->config_version;
    s.pending_resources = std::move(*want);
    out.push_back(std::move(response));
  }
  return out;
}

StreamState::RequestOutcome StreamState::OnRequest(const v1::DiscoveryRequest& request) {
  RequestOutcome outcome;
  v1::ResourceType t = request.type();
  if (t < v1::CLUSTERS || t > v1::LISTENERS) {
    outcome.stale = true;
    return outcome;
  }
  TypeState& s = types_[TypeIndex(t)];
  if (request.response_nonce().empty()) {
    // A subscription: the proxy says which version it already runs (after a reconnect or a
    // restart from its cache), so an unchanged config is not sent again.
    s.subscribed = true;
    if (!s.pending_nonce) s.acked_version = request.version_info();
    outcome.send = Pump();
    return outcome;
  }
  if (!s.pending_nonce || request.response_nonce() != *s.pending_nonce) {
    outcome.stale = true;  // answers a response that has been superseded, or none
    return outcome;
  }
  s.pending_nonce.reset();
  if (request.has_error_detail()) {
    s.nacked.insert(s.pending_version);
    outcome.nack = NackRecord{t, s.pending_version, request.error_detail().message(),
                              s.pending_config_version};
  } else {
    s.acked_version = s.pending_version;
    s.acked.clear();
    for (auto& r : s.pending_resources) s.acked.emplace(r.name(), std::move(r));
    outcome.acked_version = s.acked_version;
  }
  s.pending_resources.clear();
  outcome.send = Pump();
  return outcome;
}

bool StreamState::InSync() const {
  if (!has_desired_) return false;
  for (v1::ResourceType t : kTypeOrder) {
    const TypeState& s = types_[TypeIndex(t)];
    // A proxy subscribes to every type on its first requests: until then it is not known to run
    // anything (a reconnecting proxy must not look synced before it said what it runs).
    if (!s.subscribed || s.pending_nonce || s.acked_version != desired_->version(t)) return false;
  }
  return true;
}

}  // namespace hermes::controlplane
