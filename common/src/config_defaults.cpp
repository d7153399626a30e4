// ApplyDefaults: every default documented in config.proto, filled where a field is absent.
#include "config_defaults.h"

#include <chrono>
#include <string>

#include "hermes/common/ascii.h"
#include "hermes/common/config.h"
#include "hermes/common/duration.h"

namespace hermes::config {
namespace {

using namespace std::chrono_literals;

void ApplyListenerDefaults(v1::Listener& listener, int index) {
  if (listener.name().empty()) listener.set_name("listener-" + std::to_string(index));
  if (!listener.has_max_connections()) listener.set_max_connections(10000);
  if (!listener.has_max_header_bytes()) listener.set_max_header_bytes(16384);
  if (!listener.has_max_request_line_bytes()) listener.set_max_request_line_bytes(8192);
  if (!listener.has_max_request_body()) listener.set_max_request_body(10485760);
  if (!listener.has_header_timeout()) *listener.mutable_header_timeout() = ToProto(10s);
  if (!listener.has_idle_timeout()) *listener.mutable_idle_timeout() = ToProto(60s);
  if (!listener.has_drain_timeout()) *listener.mutable_drain_timeout() = ToProto(30s);
  if (!listener.has_normalize_path()) listener.set_normalize_path(true);
  if (!listener.has_merge_slashes()) listener.set_merge_slashes(true);
  if (listener.escaped_slashes().empty()) listener.set_escaped_slashes("reject");
  if (!listener.has_request_timeout()) *listener.mutable_request_timeout() = ToProto(300s);
  if (!listener.has_min_request_body_rate()) listener.set_min_request_body_rate(1024);
  if (!listener.has_request_buffer_bytes()) listener.set_request_buffer_bytes(65536);
}

void ApplyRetryDefaults(v1::RetryPolicy& retry) {
  if (retry.retry_on().empty()) retry.add_retry_on("connect-failure");
  if (!retry.has_num_retries()) retry.set_num_retries(1);
  if (!retry.has_backoff_base_interval()) *retry.mutable_backoff_base_interval() = ToProto(25ms);
  if (!retry.has_backoff_max_interval())
    *retry.mutable_backoff_max_interval() = ToProto(ToChrono(retry.backoff_base_interval()) * 10);
  if (!retry.has_retry_buffer_limit()) retry.set_retry_buffer_limit(1048576);
}

void ApplyRouteDefaults(v1::Route& route, int index) {
  if (route.name().empty()) route.set_name("route-" + std::to_string(index));
  if (!route.has_timeout()) *route.mutable_timeout() = ToProto(15s);
  // Absent stays absent: the implicit policy (connect failures on other endpoints) applies.
  if (route.has_retry_policy()) ApplyRetryDefaults(*route.mutable_retry_policy());
  bool websocket_listed = false;
  for (v1::UpgradeConfig& upgrade : *route.mutable_upgrade_configs()) {
    if (!upgrade.has_enabled()) upgrade.set_enabled(true);
    websocket_listed = websocket_listed || AsciiLower(upgrade.upgrade_type()) == "websocket";
  }
  if (!websocket_listed) {
    v1::UpgradeConfig& websocket = *route.add_upgrade_configs();
    websocket.set_upgrade_type("websocket");
    websocket.set_enabled(true);
  }
}

void ApplyHealthCheckDefaults(v1::HealthCheck& check) {
  if (!check.has_enabled()) check.set_enabled(true);
  if (!check.has_interval()) *check.mutable_interval() = ToProto(10s);
  if (!check.has_timeout()) *check.mutable_timeout() = ToProto(2s);
  if (check.path().empty()) check.set_path("/health");
  if (!check.has_unhealthy_threshold()) check.set_unhealthy_threshold(3);
  if (!check.has_healthy_threshold()) check.set_healthy_threshold(2);
  if (check.protocol().empty()) check.set_protocol("http");
  if (check.method().empty()) check.set_method("GET");
  if (!check.has_unhealthy_interval()) *check.mutable_unhealthy_interval() = ToProto(0s);
  if (!check.has_initial_jitter()) *check.mutable_initial_jitter() = ToProto(0s);
  if (!check.has_interval_jitter()) *check.mutable_interval_jitter() = ToProto(0s);
}

void ApplyCircuitBreakerDefaults(v1::CircuitBreaker& breaker) {
  if (!breaker.has_enabled()) breaker.set_enabled(true);
  if (!breaker.has_failure_threshold()) breaker.set_failure_threshold(5);
  if (!breaker.has_success_threshold()) breaker.set_success_threshold(3);
  if (!breaker.has_timeout()) *breaker.mutable_timeout() = ToProto(30s);
  if (!breaker.has_half_open_max_requests()) breaker.set_half_open_max_requests(1);
  if (breaker.failure_on().empty()) {
    for (const char* kind : {"connect-failure", "reset", "timeout", "5xx"}) breaker.add_failure_on(kind);
  }
}

void ApplyOutlierDefaults(v1::OutlierDetection& outlier) {
  if (!outlier.has_enabled()) outlier.set_enabled(true);
  if (!outlier.has_consecutive_5xx()) outlier.set_consecutive_5xx(5);
  if (!outlier.has_consecutive_gateway_failure()) outlier.set_consecutive_gateway_failure(5);
  if (!outlier.has_consecutive_local_origin_failure())
    outlier.set_consecutive_local_origin_failure(5);
  if (!outlier.has_base_ejection_time()) *outlier.mutable_base_ejection_time() = ToProto(30s);
  if (!outlier.has_max_ejection_time()) *outlier.mutable_max_ejection_time() = ToProto(300s);
  if (!outlier.has_max_ejection_percent()) outlier.set_max_ejection_percent(10);
}

void ApplyLoadBalancingDefaults(v1::Cluster& cluster) {
  v1::LeastRequest& lr = *cluster.mutable_least_request();
  if (!lr.has_choice_count()) lr.set_choice_count(2);
  if (!lr.has_active_request_bias()) lr.set_active_request_bias(1.0);
  v1::RingHash& ring = *cluster.mutable_ring_hash();
  if (!ring.has_minimum_ring_size()) ring.set_minimum_ring_size(1024);
  if (!ring.has_maximum_ring_size()) ring.set_maximum_ring_size(8388608);
  if (!cluster.has_panic_threshold()) cluster.set_panic_threshold(50);
  v1::ClusterLimits& limits = *cluster.mutable_limits();
  if (!limits.has_max_connections()) limits.set_max_connections(1024);
  if (!limits.has_max_pending_requests()) limits.set_max_pending_requests(1024);
  if (!limits.has_max_requests()) limits.set_max_requests(1024);
  if (!limits.has_max_retries()) limits.set_max_retries(3);
  v1::RetryBudget& budget = *cluster.mutable_retry_budget();
  if (!budget.has_budget_percent()) budget.set_budget_percent(20.0);
  if (!budget.has_min_retry_concurrency()) budget.set_min_retry_concurrency(3);
  if (cluster.has_sticky_session() && cluster.sticky_session().has_cookie()) {
    v1::StickyCookie& cookie = *cluster.mutable_sticky_session()->mutable_cookie();
    if (!cookie.has_ttl()) *cookie.mutable_ttl() = ToProto(0s);
    if (cookie.path().empty()) cookie.set_path("/");
    if (!cookie.has_http_only()) cookie.set_http_only(true);
    if (cookie.same_site().empty()) cookie.set_same_site("Lax");
    if (!cookie.has_secure()) cookie.set_secure(false);
  }
}

}  // namespace

void ApplyClusterDefaults(v1::Cluster& cluster) {
  if (cluster.lb_policy() == v1::LB_POLICY_UNSPECIFIED) cluster.set_lb_policy(v1::ROUND_ROBIN);
  if (!cluster.has_connect_timeout()) *cluster.mutable_connect_timeout() = ToProto(5s);
  if (!cluster.has_dns_refresh()) *cluster.mutable_dns_refresh() = ToProto(30s);
  v1::ConnectionPool& pool = *cluster.mutable_pool();
  if (!pool.has_max_idle_per_endpoint()) pool.set_max_idle_per_endpoint(64);
  if (!pool.has_idle_timeout()) *pool.mutable_idle_timeout() = ToProto(60s);
  // Weight 0 means 1, as in the original Hermes.
  for (v1::Endpoint& endpoint : *cluster.mutable_endpoints()) {
    if (endpoint.weight() == 0) endpoint.set_weight(1);
  }
  ApplyHealthCheckDefaults(*cluster.mutable_health_check());
  ApplyCircuitBreakerDefaults(*cluster.mutable_circuit_breaker());
  if (cluster.has_outlier_detection()) ApplyOutlierDefaults(*cluster.mutable_outlier_detection());
  ApplyLoadBalancingDefaults(cluster);
}

void ApplyDefaults(v1::Config& config) {
  if (config.listeners().empty())
    config.add_listeners()->set_address(std::string(kDefaultListenAddress));
  for (int i = 0; i < config.listeners_size(); ++i) {
    ApplyListenerDefaults(*config.mutable_listeners(i), i);
  }
  if (config.admin().address().empty()) {
    config.mutable_admin()->set_address(std::string(kDefaultAdminAddress));
  }
  if (!config.admin().has_max_connections()) config.mutable_admin()->set_max_connections(64);
  for (int i = 0; i < config.routes_size(); ++i) ApplyRouteDefaults(*config.mutable_routes(i), i);
  for (v1::Cluster& cluster : *config.mutable_clusters()) ApplyClusterDefaults(cluster);
}

}  // namespace hermes::config
