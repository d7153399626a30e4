#include "dataplane/config/snapshot.h"

#include <algorithm>
#include <cctype>

#include "dataplane/lb/load_balancer.h"
#include "dataplane/lb/sticky_id.h"
#include "hermes/common/ascii.h"
#include "hermes/common/duration.h"

namespace hermes::dataplane {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Millis ToMillis(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<Millis>(ToChrono(d));
}

std::vector<HeaderToAdd> HeadersToAdd(const google::protobuf::RepeatedPtrField<v1::Header>& in) {
  std::vector<HeaderToAdd> out;
  for (const auto& h : in) out.push_back({h.name(), h.value(), h.append()});
  return out;
}

std::vector<std::string> LowerAll(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) out.push_back(Lower(s));
  return out;
}

uint8_t FailureMask(const google::protobuf::RepeatedPtrField<std::string>& kinds) {
  uint8_t mask = 0;
  for (const auto& k : kinds) {
    if (k == "connect-failure") mask |= static_cast<uint8_t>(resilience::FailureKind::kConnectFailure);
    if (k == "reset") mask |= static_cast<uint8_t>(resilience::FailureKind::kReset);
    if (k == "timeout") mask |= static_cast<uint8_t>(resilience::FailureKind::kTimeout);
    if (k == "5xx") mask |= static_cast<uint8_t>(resilience::FailureKind::k5xx);
  }
  return mask;
}

void CompileResilience(const v1::Cluster& c, Cluster& cluster) {
  const auto& b = c.circuit_breaker();
  cluster.breaker.enabled = b.enabled();
  cluster.breaker.failure_threshold = b.failure_threshold();
  cluster.breaker.success_threshold = b.success_threshold();
  cluster.breaker.half_open_max_requests = b.half_open_max_requests();
  cluster.breaker.timeout = ToChrono(b.timeout());
  cluster.breaker.failure_on = FailureMask(b.failure_on());
  if (c.has_outlier_detection()) {
    const auto& o = c.outlier_detection();
    cluster.outlier.enabled = o.enabled();
    cluster.outlier.consecutive_5xx = o.consecutive_5xx();
    cluster.outlier.consecutive_gateway_failure = o.consecutive_gateway_failure();
    cluster.outlier.consecutive_local_origin_failure = o.consecutive_local_origin_failure();
    cluster.outlier.base_ejection_time = ToChrono(o.base_ejection_time());
    cluster.outlier.max_ejection_time = ToChrono(o.max_ejection_time());
    cluster.outlier.max_ejection_percent = o.max_ejection_percent();
  }
  cluster.limits.max_connections = c.limits().max_connections();
  cluster.limits.max_pending_requests = c.limits().max_pending_requests();
  cluster.limits.max_requests = c.limits().max_requests();
  cluster.limits.max_retries = c.limits().max_retries();
  cluster.retry_budget.budget_percent = c.retry_budget().budget_percent();
  cluster.retry_budget.min_retry_concurrency = c.retry_budget().min_retry_concurrency();
}

void CompileLoadBalancing(const v1::Cluster& c, Cluster& cluster) {
  cluster.least_request_choices = c.least_request().choice_count();
  cluster.active_request_bias = c.least_request().active_request_bias();
  cluster.ring_min_size = c.ring_hash().minimum_ring_size();
  cluster.ring_max_size = c.ring_hash().maximum_ring_size();
  cluster.panic_threshold = c.panic_threshold();
  for (const auto& h : c.hash_policy()) {
    HashPolicy policy;
    if (h.has_header()) {
      policy = {HashSource::kHeader, Lower(h.header())};
    } else if (h.has_cookie()) {
      policy = {HashSource::kCookie, h.cookie()};
    } else {
      policy = {HashSource::kSourceIp, ""};
    }
    cluster.hash_policy.push_back(std::move(policy));
  }
  if (c.has_sticky_session()) {
    const auto& s = c.sticky_session();
    if (s.has_cookie()) {
      cluster.sticky.kind = StickySettings::Kind::kCookie;
      cluster.sticky.name = s.cookie().name();
      cluster.sticky.ttl = std::chrono::duration_cast<std::chrono::seconds>(ToChrono(s.cookie().ttl()));
      cluster.sticky.path = s.cookie().path();
      cluster.sticky.http_only = s.cookie().http_only();
      cluster.sticky.same_site = s.cookie().same_site();
      cluster.sticky.secure = s.cookie().secure();
    } else {
      cluster.sticky.kind = StickySettings::Kind::kHeader;
      cluster.sticky.name = Lower(s.header());
    }
  }
}

// The listener's max_request_body caps buffer_limit further, per request.
resilience::RetrySettings CompileRetry(const v1::Route& r) {
  resilience::RetrySettings retry;
  if (!r.has_retry_policy()) {
    // The original Hermes promise: a connection failure is retried on other endpoints.
    retry.implicit = true;
    retry.retry_on = resilience::kRetryConnectFailure;
    retry.num_retries = 2;
    retry.buffer_limit = 0;
    return retry;
  }
  const auto& p = r.retry_policy();
  retry.retry_on = 0;
  for (const auto& on : p.retry_on()) retry.retry_on |= resilience::ParseRetryOn(on);
  retry.num_retries = p.num_retries();
  retry.per_try_timeout = ToMillis(p.per_try_timeout());
  for (uint32_t code : p.retriable_status_codes()) retry.retriable_status_codes.push_back(static_cast<uint16_t>(code));
  retry.backoff_base = ToMillis(p.backoff_base_interval());
  retry.backoff_max = ToMillis(p.backoff_max_interval());
  retry.buffer_limit = p.retry_buffer_limit();
  return retry;
}

}  // namespace

Cluster::Cluster() = default;
Cluster::~Cluster() = default;

bool Route::AllowsUpgrade(std::string_view protocol) const {
  for (const auto& t : upgrade_types) {
    if (AsciiIEquals(t, protocol)) return true;
  }
  return false;
}

bool Route::Matches(std::string_view req_host, std::string_view req_path) const {
  switch (host_match) {
    case HostMatch::kAny:
      break;
    case HostMatch::kExact:
      if (req_host != host) return false;
      break;
    case HostMatch::kSuffix:
      // "*.example.com" matches "a.example.com", not "example.com".
      if (req_host.size() <= host.size() || !req_host.ends_with(host)) return false;
      break;
  }
  if (!path.empty()) return req_path == path;
  if (prefix.empty() || prefix == "/") return true;
  if (!req_path.starts_with(prefix)) return false;
  // Segment boundary: "/api" matches "/api" and "/api/x", not "/apix".
  return req_path.size() == prefix.size() || prefix.back() == '/' || req_path[prefix.size()] == '/';
}

const Route* Snapshot::Match(std::string_view host, std::string_view path) const {
  for (const auto& r : routes) {
    if (r.Matches(host, path)) return &r;
  }
  return nullptr;
}

const ListenerSettings* Snapshot::FindListener(std::string_view name) const {
  for (const auto& l : listeners) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

const std::vector<tcp::endpoint>* ResolvedHosts::Find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

EndpointTotals EndpointState::Totals() const {
  EndpointTotals t = earlier;
  for (const auto& shard : shards) t.Add(shard);
  return t;
}

std::shared_ptr<EndpointState> EndpointStateRegistry::Get(const std::string& cluster,
                                                          const std::string& address) {
  std::string key = cluster + "/" + address;
  if (auto it = states_.find(key); it != states_.end()) return it->second;
  EndpointTotals earlier;
  if (auto retired = retired_.find(key); retired != retired_.end()) {
    earlier = retired->second->second;
    retired_order_.erase(retired->second);
    retired_.erase(retired);
  }
  auto state = std::make_shared<EndpointState>(workers_, earlier);
  states_.emplace(std::move(key), state);
  return state;
}

std::shared_ptr<ClusterState> EndpointStateRegistry::GetCluster(const std::string& cluster) {
  for (auto& [k, s] : clusters_) {
    if (k == cluster) return s;
  }
  clusters_.emplace_back(cluster, std::make_shared<ClusterState>());
  return clusters_.back().second;
}

void EndpointStateRegistry::Prune() {
  std::erase_if(states_, [this](const auto& e) {
    if (e.second.use_count() != 1) return false;
    // The last other owner let go with a release decrement: after this fence its workers'
    // counter writes are visible here.
    std::atomic_thread_fence(std::memory_order_acquire);
    retired_order_.emplace_back(e.first, e.second->Totals());
    retired_[e.first] = std::prev(retired_order_.end());
    return true;
  });
  while (retired_order_.size() > max_retired_) {
    retired_.erase(retired_order_.front().first);
    retired_order_.pop_front();
  }
  std::erase_if(clusters_, [](const auto& e) { return e.second.use_count() == 1; });
}

std::string_view NormalizeHost(std::string_view host, std::string& scratch) {
  if (!host.empty() && host.front() == '[') {  // "[::1]:8080"
    auto end = host.find(']');
    host = end == std::string_view::npos ? host : host.substr(0, end + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  bool lower = std::none_of(host.begin(), host.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (lower) return host;
  scratch.assign(host);
  for (auto& c : scratch) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scratch;
}

SnapshotPtr CompileSnapshot(const v1::Config& config, const ResolvedHosts& hosts,
                            uint64_t generation, StatsStore& stats,
                            EndpointStateRegistry& registry) {
  auto snap = std::make_shared<Snapshot>();
  snap->config = config;
  snap->generation = generation;
  lb::StickyIds sticky_ids(config.sticky_secret().empty() ? registry.run_sticky_secret()
                                                          : config.sticky_secret());

  for (const auto& l : config.listeners()) {
    ListenerSettings s;
    s.name = l.name();
    s.address = l.address();
    s.host_port = ParseHostPort(l.address()).value_or(HostPort{});
    s.max_connections = l.max_connections();
    s.header_timeout = ToMillis(l.header_timeout());
    s.idle_timeout = ToMillis(l.idle_timeout());
    s.max_header_bytes = l.max_header_bytes();
    s.max_request_line_bytes = l.max_request_line_bytes();
    s.max_request_body = l.max_request_body();
    s.drain_timeout = ToMillis(l.drain_timeout());
    std::vector<Cidr> trusted;
    for (const auto& t : l.trusted_proxies()) {
      if (auto cidr = ParseCidr(t)) trusted.push_back(*cidr);
    }
    s.trusted_proxies = CidrSet(std::move(trusted));
    s.path.normalize = l.normalize_path();
    s.path.merge_slashes = l.merge_slashes();
    s.path.escaped_slashes = l.escaped_slashes() == "keep"       ? http::EscapedSlashes::kKeep
                             : l.escaped_slashes() == "unescape" ? http::EscapedSlashes::kUnescape
                                                                 : http::EscapedSlashes::kReject;
    s.request_timeout = ToMillis(l.request_timeout());
    s.min_request_body_rate = l.min_request_body_rate();
    s.request_buffer_bytes = l.request_buffer_bytes();
    s.stats = stats.Listener(s.name);
    snap->listeners.push_back(std::move(s));
  }

  for (const auto& c : config.clusters()) {
    auto cluster = std::make_unique<Cluster>();
    cluster->name = c.name();
    cluster->lb_policy = c.lb_policy();
    cluster->connect_timeout = ToMillis(c.connect_timeout());
    cluster->max_idle_per_endpoint = c.pool().max_idle_per_endpoint();
    cluster->pool_idle_timeout = ToMillis(c.pool().idle_timeout());
    cluster->stats = stats.Cluster(c.name());
    cluster->state = registry.GetCluster(c.name());
    CompileResilience(c, *cluster);
    CompileLoadBalancing(c, *cluster);
    for (const auto& e : c.endpoints()) {
      Endpoint ep;
      ep.address = e.address();
      ep.host_port = ParseHostPort(e.address()).value_or(HostPort{});
      ep.weight = e.weight() == 0 ? 1 : e.weight();
      if (const auto* found = hosts.Find(e.address())) ep.resolved = *found;
      ep.state = registry.Get(c.name(), e.address());
      ep.sticky_id = sticky_ids.Id(c.name(), e.address());
      cluster->total_weight += ep.weight;
      cluster->endpoints.push_back(std::move(ep));
    }
    for (unsigned w = 0; w < stats.workers(); ++w) {
      cluster->balancers.push_back(lb::MakeLoadBalancer(*cluster, generation * 1000003 + w));
    }
    snap->clusters.push_back(std::move(cluster));
  }

  for (const auto& r : config.routes()) {
    Route route;
    route.name = r.name();
    const std::string& host = r.match().host();
    if (host.empty()) {
      route.host_match = Route::HostMatch::kAny;
    } else if (host.starts_with("*.")) {
      route.host_match = Route::HostMatch::kSuffix;
      route.host = Lower(host.substr(1));
    } else {
      route.host_match = Route::HostMatch::kExact;
      route.host = Lower(host);
    }
    route.prefix = r.match().prefix();
    route.path = r.match().path();
    for (const auto& c : snap->clusters) {
      if (c->name == r.cluster()) route.cluster = c.get();
    }
    route.has_prefix_rewrite = !r.prefix_rewrite().empty();
    route.prefix_rewrite = r.prefix_rewrite();
    route.host_rewrite = r.host_rewrite();
    route.request_headers_to_add = HeadersToAdd(r.request_headers_to_add());
    route.request_headers_to_remove = LowerAll(r.request_headers_to_remove());
    route.response_headers_to_add = HeadersToAdd(r.response_headers_to_add());
    route.response_headers_to_remove = LowerAll(r.response_headers_to_remove());
    route.timeout = ToMillis(r.timeout());
    route.retry = CompileRetry(r);
    for (const auto& u : r.upgrade_configs()) {
      std::string type = Lower(u.upgrade_type());
      if (u.enabled() && type != "h2c") route.upgrade_types.push_back(std::move(type));
    }
    route.stats = stats.Route(route.name);
    snap->routes.push_back(std::move(route));
  }
  return snap;
}

}  // namespace hermes::dataplane
