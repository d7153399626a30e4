#include "dataplane/snapshot.h"

#include <algorithm>
#include <cctype>

#include "dataplane/lb/load_balancer.h"
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

}  // namespace

Cluster::Cluster() = default;
Cluster::~Cluster() = default;

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

std::shared_ptr<EndpointState> EndpointStateRegistry::Get(const std::string& cluster,
                                                          const std::string& address) {
  std::string key = cluster + "/" + address;
  for (auto& [k, s] : states_) {
    if (k == key) return s;
  }
  states_.emplace_back(key, std::make_shared<EndpointState>());
  return states_.back().second;
}

void EndpointStateRegistry::Prune() {
  std::erase_if(states_, [](const auto& e) { return e.second.use_count() == 1; });
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
    for (const auto& e : c.endpoints()) {
      Endpoint ep;
      ep.address = e.address();
      ep.host_port = ParseHostPort(e.address()).value_or(HostPort{});
      ep.weight = e.weight() == 0 ? 1 : e.weight();
      if (const auto* found = hosts.Find(e.address())) ep.resolved = *found;
      ep.state = registry.Get(c.name(), e.address());
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
    route.stats = stats.Route(route.name);
    snap->routes.push_back(std::move(route));
  }
  return snap;
}

}  // namespace hermes::dataplane
