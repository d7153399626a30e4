// The immutable runtime form of a config: what a worker reads on the request path. A new config
// (or a DNS change) compiles into a new Snapshot; workers swap their pointer between requests and
// requests in flight finish on the snapshot they started with.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataplane/asio.h"
#include "dataplane/lb/sticky_id.h"
#include "dataplane/resilience/circuit_breaker.h"
#include "dataplane/resilience/cluster_limits.h"
#include "dataplane/resilience/outlier_detector.h"
#include "dataplane/resilience/retry.h"
#include "dataplane/stats/stats.h"
#include "dataplane/http/path.h"
#include "hermes/common/address.h"
#include "hermes/common/cidr.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

namespace lb {
class LoadBalancer;
}

using Millis = std::chrono::milliseconds;

using resilience::BreakerState;

// Per-endpoint state shared by every worker, kept in atomics, surviving config updates while the
// endpoint (cluster + address) stays.
struct EndpointState {
  // `earlier`: what this endpoint counted in this process run before it left the config and came
  // back, so that its reported counters never go down within a run.
  explicit EndpointState(unsigned workers = 1, const EndpointTotals& earlier = {})
      : shards(workers), earlier(earlier) {}

  // This worker's traffic shard; null for a worker the state was not sized for.
  EndpointShard* shard(unsigned worker) {
    return worker < shards.size() ? &shards[worker] : nullptr;
  }
  // Every count of this process run: `earlier` and every worker's shard.
  EndpointTotals Totals() const;

  std::atomic<int64_t> active_requests{0};
  std::atomic<bool> healthy{true};  // written by health checking; true until a checker says otherwise
  resilience::CircuitBreaker breaker;
  resilience::OutlierDetector outlier;
  std::vector<EndpointShard> shards;  // one per worker; worker i writes only shards[i]
  const EndpointTotals earlier;
};

// Per-cluster state shared by every worker, surviving config updates while the cluster (by name)
// stays.
struct ClusterState {
  // Bumped whenever an endpoint's availability (health, ejection) changes: balancers rebuild
  // their view of available endpoints when they see a new value.
  std::atomic<uint64_t> availability_epoch{0};
  resilience::OutlierClusterState outlier;
  resilience::ClusterLimitCounters limits;
  resilience::RetryBudget retries;
};

// Available to a balancer: healthy per health checking and not ejected by outlier detection.
// (An open breaker is not unavailable here: the session asks the breaker after the pick.)
inline bool Available(const EndpointState& s) {
  return s.healthy.load(std::memory_order_relaxed) && !s.outlier.ejected();
}

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
  std::string prefix_rewrite;
  bool has_prefix_rewrite = false;
  std::string host_rewrite;
  std::vector<HeaderToAdd> request_headers_to_add;
  std::vector<std::string> request_headers_to_remove;  // lower case
  std::vector<HeaderToAdd> response_headers_to_add;
  std::vector<std::string> response_headers_to_remove;  // lower case
  Millis timeout{15000};  // 0 = none
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
  CidrSet trusted_proxies;  // peers whose forwarded headers are believed
  http::PathOptions path;   // normalization before routing
  Millis request_timeout{300000};  // whole request; 0 = none
  uint64_t min_request_body_rate = 1024;  // bytes/s after kBodyRateAllowance; 0 = none
  uint64_t request_buffer_bytes = 65536;  // bodies up to this are read before an upstream is picked
  ListenerStats* stats = nullptr;
};

// Endpoint host names resolved to addresses; the compile step reads them, never resolves.
struct ResolvedHosts {
  // key "host:port"; a host absent from the map has not been resolved (yet).
  std::vector<std::pair<std::string, std::vector<tcp::endpoint>>> entries;
  const std::vector<tcp::endpoint>* Find(std::string_view key) const;
};

class EndpointStateRegistry;

struct Snapshot {
  hermes::v1::Config config;  // the source (served by /config)
  uint64_t generation = 0;
  std::vector<ListenerSettings> listeners;
  std::vector<std::unique_ptr<Cluster>> clusters;  // stable addresses for Route::cluster
  std::vector<Route> routes;                       // first match wins

  const Route* Match(std::string_view host, std::string_view path) const;
  const ListenerSettings* FindListener(std::string_view name) const;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Keeps EndpointState objects alive by (cluster, address) across snapshots, and holds this
// process run's sticky-session key.
class EndpointStateRegistry {
 public:
  // Pruned endpoints whose counts are kept for a comeback; beyond this the longest-gone is
  // forgotten, and if it comes back its counters restart from 0 (the control plane sees a
  // counter below the one it kept and takes it as that scope's counters restarting).
  static constexpr std::size_t kMaxRetired = 10'000;

  // `workers`: the server's worker threads, one traffic shard each per endpoint.
  explicit EndpointStateRegistry(unsigned workers = kMaxWorkers,
                                 std::size_t max_retired = kMaxRetired)
      : workers_(workers), max_retired_(max_retired) {}
  std::shared_ptr<EndpointState> Get(const std::string& cluster, const std::string& address);
  std::shared_ptr<ClusterState> GetCluster(const std::string& cluster);
  // Drops states no snapshot references any more (keeping their counts for a comeback).
  void Prune();
  std::size_t retired() const { return retired_.size(); }
  // The key of sticky-session ids for a config without sticky_secret: random, made with the
  // registry (one per Server, so once per process run). Ids stay across reloads and DNS changes,
  // and change when the process restarts.
  const std::string& run_sticky_secret() const { return run_sticky_secret_; }

 private:
  using RetiredList = std::list<std::pair<std::string, EndpointTotals>>;

  unsigned workers_;
  std::size_t max_retired_;
  std::unordered_map<std::string, std::shared_ptr<EndpointState>> states_;  // key cluster/address
  std::vector<std::pair<std::string, std::shared_ptr<ClusterState>>> clusters_;
  // The counts of pruned endpoints, oldest first, and where each key is in that list: a counter
  // of a process run never goes down (up to max_retired_ entries).
  RetiredList retired_order_;
  std::unordered_map<std::string, RetiredList::iterator> retired_;
  const std::string run_sticky_secret_ = lb::RandomStickySecret();
};

// Compiles a validated config (defaults applied). Host names absent from `hosts` get no
// addresses: connecting to them fails with 502 until the resolver fills them in. Sticky ids are
// keyed with the config's sticky_secret, or with the registry's run_sticky_secret() without one.
SnapshotPtr CompileSnapshot(const hermes::v1::Config& config, const ResolvedHosts& hosts,
                            uint64_t generation, StatsStore& stats, EndpointStateRegistry& registry);

// Lower-cases the Host header value and drops its port ("Example.com:8080" -> "example.com").
std::string_view NormalizeHost(std::string_view host, std::string& scratch);

}  // namespace hermes::dataplane
