// ApplyDefaults: every default documented in config.proto, filled where a field is absent.
#include "config_defaults.h"

#include <chrono>
#include <string>

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
}

void ApplyRouteDefaults(v1::Route& route, int index) {
  if (route.name().empty()) route.set_name("route-" + std::to_string(index));
  if (!route.has_timeout()) *route.mutable_timeout() = ToProto(15s);
}

void ApplyHealthCheckDefaults(v1::HealthCheck& check) {
  if (!check.has_enabled()) check.set_enabled(true);
  if (!check.has_interval()) *check.mutable_interval() = ToProto(10s);
  if (!check.has_timeout()) *check.mutable_timeout() = ToProto(2s);
  if (check.path().empty()) check.set_path("/health");
  if (!check.has_unhealthy_threshold()) check.set_unhealthy_threshold(3);
  if (!check.has_healthy_threshold()) check.set_healthy_threshold(2);
}

void ApplyCircuitBreakerDefaults(v1::CircuitBreaker& breaker) {
  if (!breaker.has_enabled()) breaker.set_enabled(true);
  if (!breaker.has_failure_threshold()) breaker.set_failure_threshold(5);
  if (!breaker.has_success_threshold()) breaker.set_success_threshold(3);
  if (!breaker.has_timeout()) *breaker.mutable_timeout() = ToProto(30s);
}

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
}

}  // namespace

void ApplyDefaults(v1::Config& config) {
  if (config.listeners().empty())
    config.add_listeners()->set_address(std::string(kDefaultListenAddress));
  for (int i = 0; i < config.listeners_size(); ++i) {
    ApplyListenerDefaults(*config.mutable_listeners(i), i);
  }
  if (config.admin().address().empty()) {
    config.mutable_admin()->set_address(std::string(kDefaultAdminAddress));
  }
  for (int i = 0; i < config.routes_size(); ++i) ApplyRouteDefaults(*config.mutable_routes(i), i);
  for (v1::Cluster& cluster : *config.mutable_clusters()) ApplyClusterDefaults(cluster);
}

}  // namespace hermes::config
