#include "dataplane/config/config_applier.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <string_view>

#include "dataplane/config/cluster_compile.h"
#include "dataplane/config/listener_compile.h"
#include "dataplane/config/route_compile.h"
#include "hermes/common/config.h"

namespace hermes::dataplane {
namespace {

// Deterministic, so that equal protos give equal bytes (maps in any order).
void AppendBytes(const google::protobuf::MessageLite& message, std::string& out) {
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
}

std::string Bytes(const google::protobuf::MessageLite& message) {
  std::string out;
  AppendBytes(message, out);
  return out;
}

std::string RouteBytes(const google::protobuf::RepeatedPtrField<v1::Route>& routes) {
  std::string out;
  for (const auto& r : routes) {
    std::string one = Bytes(r);
    out += std::to_string(one.size()) + ":";
    out += one;
  }
  return out;
}

v1::Config ListenerSettingsOf(const v1::Config& config) {
  v1::Config settings;
  *settings.mutable_listeners() = config.listeners();
  *settings.mutable_admin() = config.admin();
  settings.set_sticky_secret(config.sticky_secret());
  return settings;
}

void AddErrors(const std::vector<config::ConfigError>& found, std::vector<std::string>& errors) {
  for (const auto& e : found) errors.push_back(e.ToString());
}

}  // namespace

ConfigApplier::Routes ConfigApplier::CompileRoutes(
    google::protobuf::RepeatedPtrField<v1::Route> routes) {
  auto source = std::make_shared<RouteSource>();
  source->routes = std::move(routes);
  Routes out;
  out.compiled.reserve(static_cast<size_t>(source->routes.size()));
  for (const auto& r : source->routes) out.compiled.push_back(CompileRoute(r, stats_));
  out.source = std::move(source);
  return out;
}

ConfigApplier::Listeners ConfigApplier::CompileListeners(v1::Config settings) {
  Listeners out;
  for (const auto& l : settings.listeners()) out.compiled.push_back(CompileListener(l, stats_));
  out.settings = std::move(settings);
  return out;
}

ConfigApplier::Next ConfigApplier::CurrentParts() const {
  Next next;
  if (current_) {
    next.clusters.reserve(current_->clusters.size());
    for (const auto& c : current_->clusters) next.clusters.push_back(c->source);
  }
  next.routes = routes_;
  next.listeners = listeners_;
  return next;
}

ApplyResult ConfigApplier::ApplyConfig(const v1::Config& config, const ResolvedHosts& hosts) {
  Next next;
  next.clusters.reserve(static_cast<size_t>(config.clusters_size()));
  for (const auto& c : config.clusters()) {
    auto it = compiled_.find(c.name());
    // An unchanged cluster keeps its proto too (Build then sees the same pointer).
    if (it != compiled_.end() && it->second.bytes == Bytes(c)) {
      next.clusters.push_back(it->second.cluster->source);
    } else {
      next.clusters.push_back(std::make_shared<const v1::Cluster>(c));
    }
  }
  if (std::string bytes = RouteBytes(config.routes()); !current_ || bytes != routes_bytes_) {
    next.routes = CompileRoutes(config.routes());
  } else {
    next.routes = routes_;
  }
  v1::Config settings = ListenerSettingsOf(config);
  if (!current_ || Bytes(settings) != listeners_bytes_) {
    next.listeners = CompileListeners(std::move(settings));
    next.listeners_changed = true;
  } else {
    next.listeners = listeners_;
  }
  return Build(std::move(next), hosts);
}

ApplyResult ConfigApplier::ApplyChanges(ConfigChanges changes, const ResolvedHosts& hosts) {
  ApplyResult result;
  Next next = CurrentParts();

  // Clusters: replaced in place, removed, or added where a name-ordered list has them (the
  // order the discovery client's config, and so the cache, has).
  std::unordered_map<std::string, std::shared_ptr<const v1::Cluster>> changed;
  for (auto& c : changes.clusters) {
    config::ApplyClusterDefaults(c);
    std::string name = c.name();
    changed[std::move(name)] = std::make_shared<const v1::Cluster>(std::move(c));
  }
  std::unordered_set<std::string> removed(changes.removed_clusters.begin(),
                                          changes.removed_clusters.end());
  std::vector<std::shared_ptr<const v1::Cluster>> clusters;
  clusters.reserve(next.clusters.size() + changed.size());
  std::unordered_set<const v1::Cluster*> to_validate;
  for (auto& c : next.clusters) {
    if (removed.contains(c->name())) continue;
    if (auto it = changed.find(c->name()); it != changed.end()) {
      to_validate.insert(it->second.get());
      clusters.push_back(std::move(it->second));
      changed.erase(it);
    } else {
      clusters.push_back(std::move(c));
    }
  }
  std::vector<std::shared_ptr<const v1::Cluster>> added;
  for (auto& [name, c] : changed) {
    if (!removed.contains(name)) added.push_back(std::move(c));
  }
  std::sort(added.begin(), added.end(),
            [](const auto& a, const auto& b) { return a->name() < b->name(); });
  for (auto& c : added) {
    to_validate.insert(c.get());
    auto at =
        std::lower_bound(clusters.begin(), clusters.end(), c->name(),
                         [](const auto& e, const std::string& name) { return e->name() < name; });
    clusters.insert(at, std::move(c));
  }
  for (size_t i = 0; i < clusters.size(); ++i) {
    if (to_validate.contains(clusters[i].get()))
      AddErrors(config::ValidateCluster(*clusters[i], static_cast<int>(i)), result.errors);
  }
  next.clusters = std::move(clusters);

  // Routes: the new table, or the old one when a cluster it may use went away.
  if (changes.routes || !removed.empty()) {
    v1::Config routes;
    if (changes.routes) {
      *routes.mutable_routes() = std::move(*changes.routes);
      config::ApplyDefaults(routes);  // (its listener and admin defaults are not used)
    } else if (next.routes.source) {
      *routes.mutable_routes() = next.routes.source->routes;
    }
    for (const auto& c : next.clusters) routes.add_clusters()->set_name(c->name());
    AddErrors(config::ValidateRoutes(routes), result.errors);
    if (changes.routes) next.routes = CompileRoutes(std::move(*routes.mutable_routes()));
  }

  if (changes.listeners) {
    config::ApplyDefaults(*changes.listeners);
    // Holds no route or cluster: only what the listener settings resource carries is checked.
    AddErrors(config::Validate(*changes.listeners), result.errors);
    next.listeners = CompileListeners(ListenerSettingsOf(*changes.listeners));
    next.listeners_changed = true;
  }
  if (!result.errors.empty()) return result;
  return Build(std::move(next), hosts);
}

ApplyResult ConfigApplier::ApplyResolved(const ResolvedHosts& hosts) {
  if (!current_) return {};
  std::unordered_set<std::string> recompile;
  for (const auto& cluster : current_->clusters) {
    for (const auto& ep : cluster->endpoints) {
      if (EndpointAddresses(ep.host_port, ep.address, hosts) != ep.resolved) {
        recompile.insert(cluster->name);
        break;
      }
    }
  }
  if (recompile.empty()) return {};
  return Build(CurrentParts(), hosts, recompile);
}

ApplyResult ConfigApplier::Build(Next next, const ResolvedHosts& hosts,
                                 const std::unordered_set<std::string>& recompile) {
  ApplyResult result;
  // A new key changes every sticky id: every cluster compiles again.
  const bool rekey =
      !current_ || next.listeners.settings.sticky_secret() != listeners_.settings.sticky_secret();
  const std::string& secret = next.listeners.settings.sticky_secret().empty()
                                  ? registry_.run_sticky_secret()
                                  : next.listeners.settings.sticky_secret();
  lb::StickyIds sticky_ids(secret);
  const uint64_t generation = generation_ + 1;
  ClusterCompileContext context{hosts, sticky_ids, stats_, registry_, generation};

  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  snap->clusters.reserve(next.clusters.size());
  bool clusters_changed = !current_ || next.clusters.size() != current_->clusters.size();
  for (size_t i = 0; i < next.clusters.size(); ++i) {
    auto& source = next.clusters[i];
    auto old = compiled_.find(source->name());
    bool keep = !rekey && old != compiled_.end() && !recompile.contains(source->name());
    std::string bytes;
    if (keep && old->second.cluster->source != source) {
      bytes = Bytes(*source);
      keep = bytes == old->second.bytes;
    }
    if (keep) {
      snap->clusters.push_back(old->second.cluster);
      // Same clusters in another order: the routes' first match may differ.
      clusters_changed = clusters_changed || current_->clusters[i] != old->second.cluster;
      continue;
    }
    if (bytes.empty()) bytes = Bytes(*source);
    std::string name = source->name();
    auto cluster = CompileCluster(std::move(source), context);
    result.compiled_clusters.push_back(name);
    compiled_[std::move(name)] = Compiled{std::move(bytes), cluster};
    snap->clusters.push_back(std::move(cluster));
    clusters_changed = true;
  }
  if (compiled_.size() != snap->clusters.size()) {  // clusters went away
    std::unordered_set<std::string_view> names;
    for (const auto& c : snap->clusters) names.insert(c->name);
    std::erase_if(compiled_, [&](const auto& e) { return !names.contains(e.first); });
  }
  const bool routes_changed = !current_ || next.routes.source != routes_.source;
  if (current_ && !clusters_changed && !routes_changed && !next.listeners_changed) return result;

  snap->routes = LinkRoutes(next.routes.compiled, snap->clusters);
  snap->listeners = next.listeners.compiled;
  // The source config, borrowing the cluster and route protos rather than copying them.
  snap->config = next.listeners.settings;
  snap->borrows_clusters = true;
  snap->config.mutable_clusters()->Reserve(static_cast<int>(snap->clusters.size()));
  for (const auto& c : snap->clusters)
    snap->config.mutable_clusters()->UnsafeArenaAddAllocated(
        const_cast<v1::Cluster*>(c->source.get()));
  if (next.routes.source) {
    snap->route_source = next.routes.source;
    snap->config.mutable_routes()->Reserve(next.routes.source->routes.size());
    for (const auto& r : next.routes.source->routes)
      snap->config.mutable_routes()->UnsafeArenaAddAllocated(const_cast<v1::Route*>(&r));
  }

  if (routes_changed) routes_bytes_ = RouteBytes(next.routes.source->routes);
  if (next.listeners_changed) listeners_bytes_ = Bytes(next.listeners.settings);
  routes_ = std::move(next.routes);
  listeners_ = std::move(next.listeners);
  generation_ = generation;
  current_ = snap;
  result.snapshot = std::move(snap);
  return result;
}

SnapshotPtr CompileSnapshot(const v1::Config& config, const ResolvedHosts& hosts,
                            uint64_t generation, StatsStore& stats,
                            EndpointStateRegistry& registry) {
  ConfigApplier applier(stats, registry, generation);
  return applier.ApplyConfig(config, hosts).snapshot;
}

}  // namespace hermes::dataplane
