#include "controlplane/admin/admin_service.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "controlplane/auth/bearer_token.h"
#include "controlplane/rollout/config_union.h"
#include "controlplane/store/config_hash.h"
#include "hermes/common/config.h"
#include "hermes/common/line_diff.h"
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

AdminService::AdminService(Stores stores, DiscoveryServer& discovery, RolloutEngine& rollouts,
                           std::string token, TimePoint started, HealthMonitor* health,
                           StatsAggregator* stats)
    : stores_(stores),
      discovery_(discovery),
      rollouts_(rollouts),
      token_(std::move(token)),
      health_(health),
      stats_(stats),
      started_(started) {}

grpc::Status AdminService::Authorize(const grpc::ServerContext& context) const {
  if (BearerTokenMatches(context, token_)) return grpc::Status::OK;
  return {grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token"};
}

grpc::Status AdminService::ApplyConfig(grpc::ServerContext* context,
                                       const v1::ApplyConfigRequest* request,
                                       v1::ApplyConfigResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  if (auto oversize = config::CheckDocumentSize(request->yaml().size(), config_limits_.max_bytes,
                                                "ApplyConfig")) {
    return {grpc::StatusCode::INVALID_ARGUMENT, oversize->ToString()};
  }
  if (!request->merge() && request->remove_size() > 0) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "remove: takes resources out of the fleet's version in a merge; set merge"};
  }
  if (request->remove_size() > static_cast<int>(kMaxMergeRemovals)) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "remove: " + std::to_string(request->remove_size()) + " resources is over the " +
                std::to_string(kMaxMergeRemovals) + " a merge may remove; apply the whole config"};
  }
  for (int k = 0; k < request->remove_size(); ++k) {
    if (request->remove(k).size() > kMaxRemoveBytes) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "remove[" + std::to_string(k) + "]: " + std::to_string(request->remove(k).size()) +
                  " bytes is over the " + std::to_string(kMaxRemoveBytes) + " a TYPE/NAME may have"};
    }
  }
  auto refused = [response](const std::vector<config::ConfigError>& errors) {
    // A bounded answer: hermesctl's default receive limit is 4 MiB.
    const size_t shown = std::min(errors.size(), kMaxErrorsAnswered);
    for (size_t i = 0; i < shown; ++i) {
      const config::ConfigError& e = errors[i];
      v1::ConfigError* out = response->add_errors();
      out->set_path(e.path);
      out->set_message(e.message.substr(0, 4096));
      out->set_location(e.location);
    }
    if (shown < errors.size()) {
      response->add_errors()->set_message("and " + std::to_string(errors.size() - shown) +
                                          " more errors");
    }
    return grpc::Status::OK;  // refused: nothing stored; the errors are the answer
  };
  std::string source = request->source_name().empty() ? "config" : request->source_name();
  // Parsed before the lock: a whole document, or the fragment a merge puts into the fleet's
  // version (merged under the lock).
  config::LoadResult loaded;
  config::ConfigFragment fragment;
  if (!request->merge()) {
    loaded = config::LoadConfigString(request->yaml(), source, config_limits_);
    if (!loaded.ok()) return refused(loaded.errors);
  } else {
    fragment = config::ReadConfigFragment(request->yaml(), source, config_limits_);
    if (!fragment.ok()) return refused(fragment.errors);
  }
  std::lock_guard lock(apply_mu_);
  auto newest = stores_.versions.CurrentHeader();
  if (!newest) return ToStatus(newest.error());
  const uint64_t newest_id = newest.value() ? static_cast<uint64_t>(newest.value()->id) : 0;
  if (request->if_version() != 0 && request->if_version() != newest_id) {
    return {grpc::StatusCode::ABORTED,
            "the newest stored version is " + (newest_id ? "v" + std::to_string(newest_id) : std::string("none")) +
                ", not v" + std::to_string(request->if_version()) +
                ": the config changed since you read it (hermesctl history lists it; hermesctl get "
                "config --version " + std::to_string(newest_id) + " shows it)"};
  }
  if (!request->stage() && !request->dry_run()) {
    if (auto s = rollouts_.CheckDeployable(request->force()); !s.ok()) return s;
  }
  // The diff is against what the fleet runs, and a merge goes into it.
  std::optional<ConfigVersion> fleet = rollouts_.FleetVersion();
  const ConfigVersion* before = fleet ? &*fleet : nullptr;
  if (request->merge()) {
    // Into the fleet's version only when that is the newest stored: a staged version or a
    // rollout's target would be dropped from the history's head without anyone saying so.
    const int64_t fleet_id = before ? before->id : 0;
    if (static_cast<uint64_t>(fleet_id) != newest_id) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "v" + std::to_string(newest_id) + " is stored but the fleet runs " +
                  (fleet_id ? "v" + std::to_string(fleet_id) : std::string("no version")) +
                  ": a merge goes into the fleet's version and would leave v" +
                  std::to_string(newest_id) +
                  " behind; roll it out first (hermesctl rollout start), or apply a whole config"};
    }
    static const v1::Config kNone;
    const std::vector<std::string> remove(request->remove().begin(), request->remove().end());
    config::MergeResult merged =
        config::MergeConfig(before ? before->config : kNone, fragment, remove,
                            before ? Name(before) : "the fleet's config (none yet)", config_limits_);
    if (!merged.merged.ok()) return refused(merged.merged.errors);
    loaded = std::move(merged.merged);
    // Only what the merge touched is rendered: the rest is the fleet's version unchanged.
    response->set_diff(config::LineDiff(config::ToYaml(merged.replaced),
                                        config::ToYaml(merged.added), Name(before), source));
  } else {
    const std::string old_yaml = before ? config::ToYaml(before->config) : "";
    response->set_diff(config::LineDiff(old_yaml, config::ToYaml(loaded.config), Name(before), source));
  }
  response->set_fleet_version(before ? static_cast<uint64_t>(before->id) : 0);
  if (request->dry_run()) {
    // created: whether applying it would store a new version (the store's rule: its content
    // differs from the newest stored version's).
    if (before) Fill(*before, *response->mutable_version(), false);
    response->set_created(!newest.value() ||
                          Sha256Hex(SerializeDeterministic(loaded.config)) != newest.value()->hash);
    return grpc::Status::OK;
  }
  std::string author = request->author().empty() ? "unknown" : request->author();
  auto applied = stores_.versions.Apply(loaded.config, author, request->message());
  if (!applied) return ToStatus(applied.error());
  ConfigVersion& version = applied.value().version;
  Fill(version, *response->mutable_version(), false);
  response->set_created(applied.value().created);
  if (request->stage()) {
    response->set_staged(true);
    return grpc::Status::OK;
  }
  uint64_t aborted = 0;
  const int64_t fleet_before = rollouts_.fleet_version();
  const int64_t id = version.id;
  if (auto s = rollouts_.Deploy(std::move(version), request->force(), "apply by " + author, &aborted);
      !s.ok())
    return s;
  response->set_aborted_rollout(aborted);
  response->set_fleet_version(static_cast<uint64_t>(id));
  response->set_deployed(fleet_before != id);
  return grpc::Status::OK;
}

grpc::Status AdminService::GetConfig(grpc::ServerContext* context,
                                     const v1::GetConfigRequest* request,
                                     v1::GetConfigResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  ConfigVersion version;
  if (request->version() == 0) {
    int64_t fleet = rollouts_.fleet_version();
    if (fleet == 0) return {grpc::StatusCode::NOT_FOUND, "no config has been applied yet"};
    auto got = stores_.versions.Get(fleet);
    if (!got) return ToStatus(got.error());
    version = got.value();
  } else {
    auto got = stores_.versions.Get(static_cast<VersionId>(request->version()));
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
  auto history = stores_.versions.History(limit, before);
  if (!history) return ToStatus(history.error());
  for (const auto& v : history.value()) Fill(v, *response->add_versions(), false);
  return grpc::Status::OK;
}

grpc::Status AdminService::DiffVersions(grpc::ServerContext* context,
                                        const v1::DiffVersionsRequest* request,
                                        v1::DiffVersionsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  auto from = stores_.versions.Get(static_cast<VersionId>(request->from()));
  if (!from) return ToStatus(from.error());
  auto to = stores_.versions.Get(static_cast<VersionId>(request->to()));
  if (!to) return ToStatus(to.error());
  response->set_diff(config::LineDiff(config::ToYaml(from.value().config), config::ToYaml(to.value().config),
                                      Name(&from.value()), Name(&to.value())));
  return grpc::Status::OK;
}

grpc::Status AdminService::Rollback(grpc::ServerContext* context, const v1::RollbackRequest* request,
                                    v1::RollbackResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::lock_guard lock(apply_mu_);
  if (auto s = rollouts_.CheckDeployable(request->force()); !s.ok()) return s;
  VersionId target = static_cast<VersionId>(request->version());
  if (target == 0) {
    // The version the fleet ran before its current one.
    auto history = stores_.rollouts.FleetHistory(1000);
    if (!history) return ToStatus(history.error());
    const int64_t now = rollouts_.fleet_version();
    for (const FleetChange& change : history.value()) {
      if (change.version != now) {
        target = change.version;
        break;
      }
    }
    if (target == 0)
      return {grpc::StatusCode::FAILED_PRECONDITION, "there is no previous version to roll back to"};
  }
  std::string author = request->author().empty() ? "unknown" : request->author();
  auto rolled = stores_.versions.Rollback(target, author);
  if (!rolled) return ToStatus(rolled.error());
  Fill(rolled.value().version, *response->mutable_version(), false);
  uint64_t aborted = 0;
  if (auto s = rollouts_.Deploy(rolled.value().version, request->force(),
                                "rollback to v" + std::to_string(target) + " by " + author, &aborted);
      !s.ok())
    return s;
  response->set_aborted_rollout(aborted);
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
    p.set_running_version(static_cast<uint64_t>(s.running_version));
    p.set_in_rollout(s.in_rollout);
    p.set_drain(s.drain == StreamStatus::Drain::kDrained    ? v1::DRAINED
                : s.drain == StreamStatus::Drain::kDraining ? v1::DRAINING
                                                            : v1::DRAIN_STATE_UNSPECIFIED);
    p.set_active_connections(s.active_connections);
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
  auto nodes = stores_.fleet.ListNodes();
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
  std::sort(response->mutable_proxies()->begin(), response->mutable_proxies()->end(),
            [](const v1::Proxy& a, const v1::Proxy& b) { return a.node().id() < b.node().id(); });
}

grpc::Status AdminService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                     v1::GetStatusResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  auto current = stores_.versions.CurrentHeader();
  if (!current) return ToStatus(current.error());
  response->set_newest_version(current.value() ? static_cast<uint64_t>(current.value()->id) : 0);
  response->set_config_version(static_cast<uint64_t>(rollouts_.fleet_version()));
  response->set_started_unix_ms(UnixMs(started_));
  *response->mutable_rollout() = rollouts_.active();

  v1::FleetHealth health = v1::HEALTHY;
  auto worse = [&](v1::FleetHealth h, std::string reason) {
    if (h > health) health = h;
    response->add_reasons(std::move(reason));
  };
  if (rollouts_.fleet_version() == 0)
    worse(v1::DEGRADED, "no config applied yet (hermesctl apply -f FILE)");

  v1::ListProxiesResponse proxies;
  FillProxies(proxies);
  uint32_t connected = 0, in_sync = 0;
  for (const v1::Proxy& p : proxies.proxies()) {
    if (p.state() != v1::DISCONNECTED) ++connected;
    if (p.state() == v1::SYNCED) ++in_sync;
  }
  std::map<uint64_t, std::pair<uint32_t, uint32_t>> shares;  // version -> running, targeted
  for (const v1::Proxy& p : proxies.proxies()) {
    if (p.state() == v1::DISCONNECTED) continue;
    ++shares[p.running_version()].first;
    if (p.config_version() != 0) ++shares[p.config_version()].second;
  }
  for (const auto& [version, n] : shares) {
    v1::VersionShare& share = *response->add_versions();
    share.set_version(version);
    share.set_proxies(n.first);
    share.set_targeted(n.second);
  }
  if (response->rollout().id() != 0) {
    const v1::Rollout& r = response->rollout();
    worse(v1::DEGRADED, "rollout " + std::to_string(r.id()) + " of v" + std::to_string(r.version()) +
                            " in progress: " + std::to_string(r.moved_size()) + " of " +
                            std::to_string(r.selected_proxies()) + " selected proxies moved");
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
  // The clusters proxies run: the fleet's version and, during a rollout, the rollout's.
  const int64_t fleet_id = rollouts_.fleet_version();
  if (fleet_id == 0) return grpc::Status::OK;
  auto fleet = stores_.versions.Get(fleet_id);
  if (!fleet) return ToStatus(fleet.error());
  std::optional<ConfigVersion> target;
  if (uint64_t id = rollouts_.active().version(); id != 0) {
    auto got = stores_.versions.Get(static_cast<VersionId>(id));
    if (!got) return ToStatus(got.error());
    target = std::move(got).value();
  }
  const v1::Config config = ConfigUnion(fleet.value().config, target ? &target->config : nullptr);
  bool found = request->cluster().empty();
  for (const v1::Cluster& c : config.clusters()) found |= c.name() == request->cluster();
  if (!found)
    return {grpc::StatusCode::NOT_FOUND, "no cluster \"" + request->cluster() + "\" in v" +
                                             std::to_string(fleet_id) +
                                             (target ? " or v" + std::to_string(target->id) : "")};
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
  auto events = stores_.health.ListHealthEvents(request->cluster(), limit);
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

grpc::Status AdminService::StartRollout(grpc::ServerContext* context,
                                        const v1::StartRolloutRequest* request,
                                        v1::RolloutResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::lock_guard lock(apply_mu_);
  return rollouts_.Start(*request, response->mutable_rollout());
}

grpc::Status AdminService::PromoteRollout(grpc::ServerContext* context,
                                          const v1::RolloutActionRequest* request,
                                          v1::RolloutResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::lock_guard lock(apply_mu_);
  return rollouts_.Promote(request->author(), response->mutable_rollout());
}

grpc::Status AdminService::PauseRollout(grpc::ServerContext* context,
                                        const v1::RolloutActionRequest* request,
                                        v1::RolloutResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::lock_guard lock(apply_mu_);
  return rollouts_.Pause(request->author(), request->reason(), response->mutable_rollout());
}

grpc::Status AdminService::ResumeRollout(grpc::ServerContext* context,
                                         const v1::RolloutActionRequest* request,
                                         v1::RolloutResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::lock_guard lock(apply_mu_);
  return rollouts_.Resume(request->author(), response->mutable_rollout());
}

grpc::Status AdminService::AbortRollout(grpc::ServerContext* context,
                                        const v1::RolloutActionRequest* request,
                                        v1::RolloutResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::lock_guard lock(apply_mu_);
  return rollouts_.Abort(request->author(), request->reason(), response->mutable_rollout());
}

grpc::Status AdminService::GetRollout(grpc::ServerContext* context,
                                      const v1::GetRolloutRequest* request,
                                      v1::RolloutResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  return rollouts_.Get(request->id(), response->mutable_rollout());
}

grpc::Status AdminService::ListRollouts(grpc::ServerContext* context,
                                        const v1::ListRolloutsRequest* request,
                                        v1::ListRolloutsResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  std::vector<v1::Rollout> rollouts;
  if (auto s = rollouts_.List(request->limit() == 0 ? 20 : request->limit(), &rollouts); !s.ok())
    return s;
  for (v1::Rollout& r : rollouts) {
    r.clear_proxies();
    *response->add_rollouts() = std::move(r);
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::DrainProxy(grpc::ServerContext* context,
                                      const v1::DrainProxyRequest* request,
                                      v1::DrainProxyResponse* response) {
  if (auto s = Authorize(*context); !s.ok()) return s;
  if (request->node().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "node: required"};
  if (!discovery_.Drain(request->node())) {
    return {grpc::StatusCode::NOT_FOUND,
            "proxy " + request->node() + " is not connected (hermesctl proxies lists them)"};
  }
  v1::ListProxiesResponse proxies;
  FillProxies(proxies);
  for (const v1::Proxy& p : proxies.proxies()) {
    if (p.node().id() == request->node()) *response->mutable_proxy() = p;
  }
  return grpc::Status::OK;
}

}  // namespace hermes::controlplane
