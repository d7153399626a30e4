#include "dataplane/config/cluster_compile.h"

#include "dataplane/lb/load_balancer.h"
#include "hermes/common/ascii.h"
#include "hermes/common/duration.h"

namespace hermes::dataplane {
namespace {

Millis ToMillis(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<Millis>(ToChrono(d));
}

uint8_t FailureMask(const google::protobuf::RepeatedPtrField<std::string>& kinds) {
  uint8_t mask = 0;
  for (const auto& k : kinds) {
    if (k == "connect-failure")
      mask |= static_cast<uint8_t>(resilience::FailureKind::kConnectFailure);
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
      policy = {HashSource::kHeader, AsciiLower(h.header())};
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
      cluster.sticky.ttl =
          std::chrono::duration_cast<std::chrono::seconds>(ToChrono(s.cookie().ttl()));
      cluster.sticky.path = s.cookie().path();
      cluster.sticky.http_only = s.cookie().http_only();
      cluster.sticky.same_site = s.cookie().same_site();
      cluster.sticky.secure = s.cookie().secure();
    } else {
      cluster.sticky.kind = StickySettings::Kind::kHeader;
      cluster.sticky.name = AsciiLower(s.header());
    }
  }
}

}  // namespace

std::vector<tcp::endpoint> EndpointAddresses(const HostPort& host_port, std::string_view address,
                                             const ResolvedHosts& hosts) {
  boost::system::error_code ec;
  if (auto ip = asio::ip::make_address(host_port.host, ec); !ec)
    return {tcp::endpoint(ip, host_port.port)};
  if (const auto* found = hosts.Find(address)) return *found;
  return {};
}

std::shared_ptr<Cluster> CompileCluster(std::shared_ptr<const v1::Cluster> source,
                                        ClusterCompileContext& context) {
  const v1::Cluster& c = *source;
  auto cluster = std::make_shared<Cluster>();
  cluster->name = c.name();
  cluster->lb_policy = c.lb_policy();
  cluster->connect_timeout = ToMillis(c.connect_timeout());
  cluster->max_idle_per_endpoint = c.pool().max_idle_per_endpoint();
  cluster->pool_idle_timeout = ToMillis(c.pool().idle_timeout());
  cluster->stats = context.stats.Cluster(c.name());
  cluster->state = context.registry.GetCluster(c.name());
  CompileResilience(c, *cluster);
  CompileLoadBalancing(c, *cluster);
  cluster->endpoints.reserve(static_cast<size_t>(c.endpoints_size()));
  for (const auto& e : c.endpoints()) {
    Endpoint ep;
    ep.address = e.address();
    ep.host_port = ParseHostPort(e.address()).value_or(HostPort{});
    ep.weight = e.weight() == 0 ? 1 : e.weight();
    ep.resolved = EndpointAddresses(ep.host_port, ep.address, context.hosts);
    ep.state = context.registry.Get(c.name(), e.address());
    ep.sticky_id = context.sticky_ids.Id(c.name(), e.address());
    cluster->total_weight += ep.weight;
    cluster->endpoints.push_back(std::move(ep));
  }
  for (unsigned w = 0; w < context.stats.workers(); ++w) {
    cluster->balancers.push_back(lb::MakeLoadBalancer(*cluster, context.seed * 1000003 + w));
  }
  cluster->source = std::move(source);
  return cluster;
}

}  // namespace hermes::dataplane
