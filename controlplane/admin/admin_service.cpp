#include "controlplane/admin/admin_service.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "controlplane/auth/bearer_token.h"
#include "hermes/common/config.h"
#include "hermes/common/yaml_writer.h"

namespace hermes::controlplane {
namespace {

int64_t UnixMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void Fill(const ConfigVersion& from, v1::ConfigVersion& to, bool with_config) {
  to.set_id(static_cast<uint64_t>(from.id));
  to.set_parent(from.parent ? static_cast<uint64_t>(*from.parent) : 0);
  to.set_hash(from.hash);
  to.set_author(from.author);
  to.set_message(from.message);
  to.set_created_unix_ms(UnixMs(from.created_at));
  if (with_config) *to.mutable_config() = from.config;
}

std::string Name(const ConfigVersion* v) { return v ? "v" + std::to_string(v->id) : "(none)"; }

v1::SyncState Worst(v1::SyncState a, v1::SyncState b) {
  auto rank = [](v1::SyncState s) {
    switch (s) {
      case v1::DISCONNECTED:
        return 3;
      case v1::NACKED:
        return 2;
      case v1::STALE:
        return 1;
      default:
        return 0;
    }
  };
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace

grpc::Status ToStatus(const StoreError& error) {
  switch (error.kind) {
    case StoreErrorKind::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, error.message};
    case StoreErrorKind::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, error.message};
    default:
      return {grpc::StatusCode::INTERNAL, error.message};
  }
}

AdminService::AdminService(ConfigStore& store, DiscoveryServer& discovery, std::string token,
                           HealthMonitor* health, StatsAggregator* stats, TimePoint started)
    : store_(store),
      discovery_(discovery),
      token_(std::move(token)),
      health_(health),
      stats_(stats),
      started_(started) {}

void AdminService::Publish(const ConfigVersion& version) {
  if (health_) health_->SetConfig(version.config);
  if (stats_) stats_->SetRouteClusters(version.config);
  discovery_.Publish(version.id, version.config);
}

grpc::Status AdminService::Authorize(const grpc::ServerContext& context) const {
  if (BearerTokenMatches(context, token_)) return grpc::Status::OK;
  return {grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token"};
}

grpc::Status AdminService::ApplyConfig(grpc::ServerContext* context,
                                       const v1::ApplyConfigRequest* request,
                                       v1::ApplyConfigResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::string source = request->source_name().empty() ? "config" : request->source_name();
  config::LoadResult loaded = config::LoadConfigString(request->yaml(), source);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) {
      v1::ConfigError* out = response->add_errors();
      out->set_path(e.path);
      out->set_message(e.message);
      out->set_location(e.location);
    }
    return grpc::Status::OK;  // refused: nothing stored; the errors are the answer
  }
  std::lock_guard lock(apply_mu_);
  auto current = store_.Current();
  if (!current) return ToStatus(current.error());
  const ConfigVersion* before = current.value() ? &*current.value() : nullptr;
  std::string old_yaml = before ? config::ToYaml(before->config) : "";
  std::string new_yaml = config::ToYaml(loaded.config);
  response->set_diff(config::LineDiff(old_yaml, new_yaml, Name(before), source));
  if (request->dry_run()) {
    // created: whether applying it would make a new version.
    if (before) Fill(*before, *response->mutable_version(), false);
    response->set_created(response->diff().empty() ? before == nullptr : true);
    return grpc::Status::OK;
  }
  std::string author = request->author().empty() ? "unknown" : request->author();
  auto applied = store_.Apply(loaded.config, author, request->message());
  if (!applied) return ToStatus(applied.error());
  Fill(applied.value().version, *response->mutable_version(), false);
  response->set_created(applied.value().created);
  if (applied.value().created) Publish(applied.value().version);
  return grpc::Status::OK;
}

grpc::Status AdminService::GetConfig(grpc::ServerContext* context,
                                     const v1::GetConfigRequest* request,
                                     v1::GetConfigResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  ConfigVersion version;
  if (request->version() == 0) {
    auto current = store_.Current();
    if (!current) return ToStatus(current.error());
    if (!current.value()) return {grpc::StatusCode::NOT_FOUND, "no config has been applied yet"};
    version = *current.value();
  } else {
    auto got = store_.Get(static_cast<VersionId>(request->version()));
    if (!got) return ToStatus(got.error());
    version = got.value();
  }
  Fill(version, *response->mutable_version(), true);
  response->set_yaml(config::ToYaml(version.config));
  return grpc::Status::OK;
}

grpc::Status AdminService::ListVersions(grpc::ServerContext* context,
                                        const v1::ListVersionsRequest* request,
                                        v1::ListVersionsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  size_t limit = request->limit() == 0 ? 20 : request->limit();
  std::optional<VersionId> before;
  if (request->before_id() > 0) before = static_cast<VersionId>(request->before_id());
  auto history = store_.History(limit, before);
  if (!history) return ToStatus(history.error());
  for (const auto& v : history.value()) Fill(v, *response->add_versions(), false);
  return grpc::Status::OK;
}

grpc::Status AdminService::DiffVersions(grpc::ServerContext* context,
                                        const v1::DiffVersionsRequest* request,
                                        v1::DiffVersionsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  auto from = store_.Get(static_cast<VersionId>(request->from()));
  if (!from) return ToStatus(from.error());
  auto to = store_.Get(static_cast<VersionId>(request->to()));
  if (!to) return ToStatus(to.error());
  response->set_diff(config::LineDiff(config::ToYaml(from.value().config), config::ToYaml(to.value().config),
                                      Name(&from.value()), Name(&to.value())));
  return grpc::Status::OK;
}

grpc::Status AdminService::Rollback(grpc::ServerContext* context, const v1::RollbackRequest* request,
                                    v1::RollbackResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::lock_guard lock(apply_mu_);
  VersionId target = static_cast<VersionId>(request->version());
  if (target == 0) {
    auto current = store_.Current();
    if (!current) return ToStatus(current.error());
    if (!current.value() || !current.value()->parent)
      return {grpc::StatusCode::FAILED_PRECONDITION, "there is no previous version to roll back to"};
    target = *current.value()->parent;
  }
  std::string author = request->author().empty() ? "unknown" : request->author();
  auto rolled = store_.Rollback(target, author);
  if (!rolled) return ToStatus(rolled.error());
  Fill(rolled.value().version, *response->mutable_version(), false);
  if (rolled.value().created) Publish(rolled.value().version);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListProxies(grpc::ServerContext* context, const v1::ListProxiesRequest*,
                                       v1::ListProxiesResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  FillProxies(*response);
  return grpc::Status::OK;
}

void AdminService::FillProxies(v1::ListProxiesResponse& out) const {
  v1::ListProxiesResponse* response = &out;
  std::set<std::string> seen;
  for (const StreamStatus& s : discovery_.Proxies()) {
    if (!seen.insert(s.node.id()).second) continue;
    v1::Proxy& p = *response->add_proxies();
    *p.mutable_node() = s.node;
    p.set_address(s.peer);
    p.set_connected_since_unix_ms(UnixMs(s.connected_since));
    p.set_last_seen_unix_ms(UnixMs(s.last_seen));
    p.set_config_version(static_cast<uint64_t>(s.config_version));
    v1::SyncState overall = v1::SYNCED;
    for (v1::ResourceType t : kTypeOrder) {
      v1::TypeSync& ts = *p.add_types();
      ts.set_type(t);
      auto acked = s.acked.find(t);
      ts.set_acked_version(acked == s.acked.end() ? "" : acked->second);
      v1::SyncState state = !s.connected ? v1::DISCONNECTED
                            : s.in_sync  ? v1::SYNCED
                                         : v1::STALE;
      if (s.connected && s.last_nack && s.last_nack->type == t &&
          (acked == s.acked.end() || acked->second != s.last_nack->version) && !s.in_sync)
        state = v1::NACKED;
      ts.set_state(state);
      overall = Worst(overall, state);
    }
    p.set_state(overall);
    if (s.last_nack) {
      p.mutable_last_nack()->set_type(s.last_nack->type);
      p.mutable_last_nack()->set_version(s.last_nack->version);
      p.mutable_last_nack()->set_error(s.last_nack->error);
      p.mutable_last_nack()->set_at_unix_ms(UnixMs(s.last_nack_at));
    }
  }
  // Proxies known from earlier runs of the control plane that have not reconnected.
  auto nodes = store_.ListNodes();
  if (nodes) {
    for (const NodeStatus& n : nodes.value()) {
      if (!seen.insert(n.node.id).second) continue;
      v1::Proxy& p = *response->add_proxies();
      p.mutable_node()->set_id(n.node.id);
      p.mutable_node()->set_group(n.node.group);
      for (const auto& [k, v] : n.node.labels) (*p.mutable_node()->mutable_labels())[k] = v;
      p.set_address(n.node.address);
      p.set_connected_since_unix_ms(UnixMs(n.node.connected_since));
      p.set_last_seen_unix_ms(UnixMs(n.node.last_seen));
      p.set_state(v1::DISCONNECTED);
    }
  }
}

grpc::Status AdminService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                     v1::GetStatusResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  auto current = store_.Current();
  if (!current) return ToStatus(current.error());
  response->set_config_version(current.value() ? static_cast<uint64_t>(current.value()->id) : 0);
  response->set_started_unix_ms(UnixMs(started_));

  v1::FleetHealth health = v1::HEALTHY;
  auto worse = [&](v1::FleetHealth h, std::string reason) {
    if (h > health) health = h;
    response->add_reasons(std::move(reason));
  };
  if (!current.value()) worse(v1::DEGRADED, "no config applied yet (hermesctl apply -f FILE)");

  v1::ListProxiesResponse proxies;
  FillProxies(proxies);
  uint32_t connected = 0, in_sync = 0;
  for (const v1::Proxy& p : proxies.proxies()) {
    if (p.state() != v1::DISCONNECTED) ++connected;
    if (p.state() == v1::SYNCED) ++in_sync;
  }
  response->set_proxies_total(static_cast<uint32_t>(proxies.proxies_size()));
  response->set_proxies_connected(connected);
  response->set_proxies_in_sync(in_sync);
  if (connected == 0) {
    worse(v1::UNHEALTHY, proxies.proxies().empty() ? "no proxy has connected" : "no proxy connected");
  }
  for (const v1::Proxy& p : proxies.proxies()) {
    if (p.state() == v1::SYNCED) continue;
    std::string state = p.state() == v1::DISCONNECTED ? "disconnected"
                        : p.state() == v1::NACKED     ? "refused v" + std::to_string(p.config_version())
                                                      : "not in sync yet";
    worse(v1::DEGRADED, "proxy " + p.node().id() + " " + state);
  }

  uint32_t total = 0, healthy = 0;
  if (health_) {
    std::map<std::string, std::pair<uint32_t, uint32_t>> per_cluster;  // healthy, total
    for (const auto& [key, v] : health_->View()) {
      ++total;
      auto& c = per_cluster[key.first];
      ++c.second;
      if (v.healthy) {
        ++healthy;
        ++c.first;
      } else {
        worse(v1::DEGRADED, "backend " + key.first + "/" + key.second + " unhealthy (" + v.reason + ")");
      }
    }
    for (const auto& [cluster, c] : per_cluster)
      if (c.first == 0) worse(v1::UNHEALTHY, "cluster " + cluster + " has no healthy backend");
  }
  response->set_backends_total(total);
  response->set_backends_healthy(healthy);
  response->set_health(health);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListBackends(grpc::ServerContext* context,
                                        const v1::ListBackendsRequest* request,
                                        v1::ListBackendsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  auto current = store_.Current();
  if (!current) return ToStatus(current.error());
  if (!current.value()) return grpc::Status::OK;
  const v1::Config& config = current.value()->config;
  bool found = request->cluster().empty();
  for (const v1::Cluster& c : config.clusters()) found |= c.name() == request->cluster();
  if (!found)
    return {grpc::StatusCode::NOT_FOUND, "no cluster \"" + request->cluster() + "\" in v" +
                                             std::to_string(current.value()->id)};
  std::chrono::seconds window(request->window_seconds() == 0 ? 60 : request->window_seconds());
  auto health = health_ ? health_->View() : std::map<std::pair<std::string, std::string>, EndpointHealthView>{};
  auto traffic = stats_ ? stats_->Endpoints(window)
                        : std::map<std::pair<std::string, std::string>, StatsAggregator::EndpointView>{};
  for (const v1::Cluster& c : config.clusters()) {
    if (!request->cluster().empty() && c.name() != request->cluster()) continue;
    v1::BackendCluster& bc = *response->add_clusters();
    bc.set_name(c.name());
    bc.set_health_checked(c.health_check().enabled());
    for (const v1::Endpoint& e : c.endpoints()) {
      v1::BackendEndpoint& be = *bc.add_endpoints();
      be.set_address(e.address());
      std::pair<std::string, std::string> key{c.name(), e.address()};
      auto h = health.find(key);
      if (!c.health_check().enabled()) {
        be.set_health(v1::UNCHECKED);
      } else if (h == health.end()) {
        be.set_health(v1::UNKNOWN);
      } else {
        be.set_health(h->second.healthy ? v1::ENDPOINT_HEALTHY : v1::ENDPOINT_UNHEALTHY);
        be.set_health_reason(h->second.reason);
        if (h->second.changed_at != TimePoint{}) be.set_health_changed_unix_ms(UnixMs(h->second.changed_at));
      }
      if (auto t = traffic.find(key); t != traffic.end()) {
        be.set_proxies_reporting(t->second.proxies_reporting);
        be.set_ejected_on(t->second.ejected_on);
        be.set_active_requests(t->second.active_requests);
        *be.mutable_rates() = t->second.rates;
      } else {
        be.mutable_rates()->set_window_seconds(static_cast<uint32_t>(window.count()));
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                                    v1::GetStatsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  if (!stats_) return {grpc::StatusCode::UNIMPLEMENTED, "this control plane keeps no stats"};
  if (request->window_seconds() > 3600)
    return {grpc::StatusCode::INVALID_ARGUMENT, "window_seconds: at most 3600 (the stats kept in memory)"};
  *response = stats_->Stats(*request);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListCircuits(grpc::ServerContext* context,
                                        const v1::ListCircuitsRequest* request,
                                        v1::ListCircuitsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  if (!stats_) return {grpc::StatusCode::UNIMPLEMENTED, "this control plane keeps no stats"};
  *response = stats_->Circuits(*request);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListHealthEvents(grpc::ServerContext* context,
                                            const v1::ListHealthEventsRequest* request,
                                            v1::ListHealthEventsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  size_t limit = request->limit() == 0 ? 50 : std::min<uint32_t>(request->limit(), 10000);
  auto events = store_.ListHealthEvents(request->cluster(), limit);
  if (!events) return ToStatus(events.error());
  for (const HealthEventRecord& e : events.value()) {
    v1::HealthEvent& out = *response->add_events();
    out.set_cluster(e.cluster);
    out.set_address(e.address);
    out.set_healthy(e.healthy);
    out.set_reason(e.reason);
    out.set_at_unix_ms(UnixMs(e.at));
  }
  return grpc::Status::OK;
}

}  // namespace hermes::controlplane
