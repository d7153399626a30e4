// The immutable runtime form of a config: what a worker reads on the request path. A config
// change (or a DNS change) makes a new Snapshot (config_applier.h), which shares the compiled
// clusters that did not change with the one before; workers swap their pointer between requests
// and requests in flight finish on the snapshot they started with.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataplane/asio.h"
#include "dataplane/config/endpoint_registry.h"
#include "dataplane/http/path.h"
#include "dataplane/resilience/circuit_breaker.h"
#include "dataplane/resilience/cluster_limits.h"
#include "dataplane/resilience/outlier_detector.h"
#include "dataplane/resilience/retry.h"
#include "dataplane/stats/stats.h"
#include "hermes/common/address.h"
#include "hermes/common/cidr.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

namespace lb {
class LoadBalancer;
}

using Millis = std::chrono::milliseconds;

using resilience::BreakerState;

enum class HashSource : uint8_t { kHeader, kCookie, kSourceIp };
struct HashPolicy {
  HashSource source = HashSource::kHeader;
  std::string name;  // header name (lower case) or cookie name
};

struct StickySettings {
  enum class Kind : uint8_t { kNone, kCookie, kHeader };
  Kind kind = Kind::kNone;
  std::string name;  // cookie or header name
  std::chrono::seconds ttl{0};
  std::string path = "/";
  bool http_only = true;
  std::string same_site = "Lax";
  bool secure = false;
};

struct Endpoint {
  std::string address;  // as configured: "host:port"
  HostPort host_port;
  uint32_t weight = 1;
  // Opaque id for sticky sessions (lb/sticky_id.h): a keyed hash of cluster and address, computed
  // once per compile, never the address.
  uint64_t sticky_id = 0;
  std::vector<tcp::endpoint> resolved;  // every address of the host, in resolver order
  std::shared_ptr<EndpointState> state;
};

struct Cluster {
  Cluster();
  ~Cluster();
  std::string name;
  std::vector<Endpoint> endpoints;
  hermes::v1::LbPolicy lb_policy = hermes::v1::ROUND_ROBIN;
  uint32_t total_weight = 0;
  Millis connect_timeout{5000};
  uint32_t max_idle_per_endpoint = 64;
  Millis pool_idle_timeout{60000};
  uint32_t least_request_choices = 2;
  double active_request_bias = 1.0;
  uint64_t ring_min_size = 1024;
  uint64_t ring_max_size = 8388608;
  uint32_t panic_threshold = 50;  // percent; 0 = off
  std::vector<HashPolicy> hash_policy;
  StickySettings sticky;
  resilience::BreakerSettings breaker;
  resilience::OutlierSettings outlier;
  resilience::LimitSettings limits;
  resilience::RetryBudgetSettings retry_budget;
  std::shared_ptr<ClusterState> state;
  TrafficStats* stats = nullptr;
  // One balancer per worker: worker i touches only balancers[i], so picks take no lock. They live
  // and die with the snapshot, so a request never reaches a balancer of another config.
  std::vector<std::unique_ptr<lb::LoadBalancer>> balancers;
  // The proto this cluster was compiled from, defaults applied; the snapshots that share this
  // cluster borrow it for their `config` instead of copying it.
  std::shared_ptr<const hermes::v1::Cluster> source;
};

struct HeaderToAdd {
  std::string name;
  std::string value;
  bool append = false;
};

struct Route {
  enum class HostMatch : uint8_t { kAny, kExact, kSuffix };
  std::string name;
  HostMatch host_match = HostMatch::kAny;
  std::string host;    // lower case; for kSuffix the ".example.com" part
  std::string prefix;  // "" matches everything
  std::string path;    // exact path when non-empty
  const Cluster* cluster = nullptr;
  std::string cluster_name;  // what `cluster` was linked by
  std::string prefix_rewrite;
  bool has_prefix_rewrite = false;
  std::string host_rewrite;
  std::vector<HeaderToAdd> request_headers_to_add;
  std::vector<std::string> request_headers_to_remove;  // lower case
  std::vector<HeaderToAdd> response_headers_to_add;
  std::vector<std::string> response_headers_to_remove;  // lower case
  Millis timeout{15000};                                // 0 = none
  resilience::RetrySettings retry;
  // Enabled upgrade protocols (lower case, e.g. "websocket"); never "h2c".
  std::vector<std::string> upgrade_types;
  TrafficStats* stats = nullptr;

  bool AllowsUpgrade(std::string_view protocol) const;

  // Host without port, lower case; path without query.
  bool Matches(std::string_view host, std::string_view path) const;
};

struct ListenerSettings {
  std::string name;
  std::string address;  // as configured
  HostPort host_port;
  uint32_t max_connections = 10000;
  Millis header_timeout{10000};
  Millis idle_timeout{60000};
  uint32_t max_header_bytes = 16384;
  uint32_t max_request_line_bytes = 8192;
  uint64_t max_request_body = 10485760;  // 0 = no cap
  Millis drain_timeout{30000};
  CidrSet trusted_proxies;                // peers whose forwarded headers are believed
  http::PathOptions path;                 // normalization before routing
  Millis request_timeout{300000};         // whole request; 0 = none
  uint64_t min_request_body_rate = 1024;  // bytes/s after kBodyRateAllowance; 0 = none
  uint64_t request_buffer_bytes = 65536;  // bodies up to this are read before an upstream is picked
  ListenerStats* stats = nullptr;
};

// Endpoint host names resolved to addresses (resolver.h); the compile step reads them, never
// resolves. IP literals need no entry.
struct ResolvedHosts {
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  // key "host:port"; a host absent from the map has not been resolved (yet).
  std::unordered_map<std::string, std::vector<tcp::endpoint>, KeyHash, std::equal_to<>> entries;
  const std::vector<tcp::endpoint>* Find(std::string_view key) const {
    auto it = entries.find(key);
    return it == entries.end() ? nullptr : &it->second;
  }
};

// The proto routes a snapshot's `config` borrows (config_applier.cpp): shared by the snapshots
// of one route table.
struct RouteSource {
  google::protobuf::RepeatedPtrField<hermes::v1::Route> routes;
};

struct Snapshot {
  Snapshot() = default;
  // Gives back what `config` borrowed (never deletes it).
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  hermes::v1::Config config;  // the source (served by /config)
  uint64_t generation = 0;
  std::vector<ListenerSettings> listeners;
  // Stable addresses for Route::cluster; a cluster that did not change is the same object in
  // the snapshots before and after the change (its balancers, so round-robin positions, go on).
  std::vector<std::shared_ptr<Cluster>> clusters;
  std::vector<Route> routes;  // first match wins

  const Route* Match(std::string_view host, std::string_view path) const;
  const ListenerSettings* FindListener(std::string_view name) const;

  // `config.clusters` holds the clusters' `source` protos and `config.routes` those of
  // `route_source`, without owning them: an apply copies no proto it did not change.
  bool borrows_clusters = false;
  std::shared_ptr<const RouteSource> route_source;  // set when config.routes is borrowed
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// A full compile (config_applier.cpp) of a validated config (defaults applied). Host names
// absent from `hosts` get no addresses: connecting to them fails with 502 until the resolver
// fills them in. Sticky ids are keyed with the config's sticky_secret, or with the registry's
// run_sticky_secret() without one.
SnapshotPtr CompileSnapshot(const hermes::v1::Config& config, const ResolvedHosts& hosts,
                            uint64_t generation, StatsStore& stats,
                            EndpointStateRegistry& registry);

// Lower-cases the Host header value and drops its port ("Example.com:8080" -> "example.com").
std::string_view NormalizeHost(std::string_view host, std::string& scratch);

}  // namespace hermes::dataplane
