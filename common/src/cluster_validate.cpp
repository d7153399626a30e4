// Cluster rules: a usable name, reachable endpoints, and health-check and breaker settings that
// can take effect.
#include <algorithm>
#include <map>
#include <string>

#include "config_validate.h"
#include "hermes/common/address.h"
#include "hermes/common/duration.h"
#include "validation_rules.h"

namespace hermes::config {
namespace {

std::optional<std::string> CheckClusterName(std::string_view name) {
  if (name.empty()) return "must not be empty";
  const bool valid = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (valid) return std::nullopt;
  return Quote(name) + " is not a valid cluster name (expected letters, digits, '.', '_' and '-')";
}

// Host names compare without case: "Backend:80" and "backend:80" are one endpoint.
std::string EndpointKey(std::string_view address) {
  std::optional<HostPort> parsed = ParseHostPort(address);
  if (!parsed) return std::string(address);
  std::string key = parsed->host;
  std::transform(key.begin(), key.end(), key.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return key + "|" + std::to_string(parsed->port);
}

void ValidateEndpoints(const v1::Cluster& cluster, const std::string& path, ErrorList& errors) {
  if (cluster.endpoints().empty()) {
    errors.Add(path + ".endpoints", "must have at least one endpoint");
    return;
  }
  std::map<std::string, int> seen;
  for (int k = 0; k < cluster.endpoints_size(); ++k) {
    const std::string& address = cluster.endpoints(k).address();
    const std::string address_path = path + ".endpoints[" + std::to_string(k) + "].address";
    std::optional<std::string> problem = CheckEndpointAddress(address);
    if (problem) {
      errors.Add(address_path, std::move(*problem));
    } else if (auto [first, inserted] = seen.emplace(EndpointKey(address), k); !inserted) {
      errors.Add(address_path, Quote(address) + " is listed twice (also endpoints[" +
                                   std::to_string(first->second) + "])");
    }
  }
}

void ValidateHealthCheck(const v1::HealthCheck& check, const std::string& path, ErrorList& errors) {
  errors.Check(path + ".interval", CheckPositive(check.interval()));
  errors.Check(path + ".timeout", CheckPositive(check.timeout()));
  if (ToChrono(check.timeout()) > ToChrono(check.interval())) {
    errors.Add(path + ".timeout", FormatDuration(ToChrono(check.timeout())) +
                                      " must be <= interval (" +
                                      FormatDuration(ToChrono(check.interval())) + ")");
  }
  errors.Check(path + ".path", CheckUrlPath(check.path()));
  errors.Check(path + ".unhealthy_threshold", CheckAtLeastOne(check.unhealthy_threshold()));
  errors.Check(path + ".healthy_threshold", CheckAtLeastOne(check.healthy_threshold()));
  if (check.protocol() != "http" && check.protocol() != "tcp") {
    errors.Add(path + ".protocol", Quote(check.protocol()) + " is not http or tcp");
  }
  errors.Check(path + ".method", CheckHeaderName(check.method()));  // a token, like a header name
  if (!check.host().empty()) errors.Check(path + ".host", CheckHeaderValue(check.host()));
  for (int k = 0; k < check.expected_statuses_size(); ++k) {
    uint32_t code = check.expected_statuses(k);
    if (code < 100 || code > 599) {
      errors.Add(path + ".expected_statuses[" + std::to_string(k) + "]",
                 std::to_string(code) + " is not an HTTP status code (100-599)");
    }
  }
  errors.Check(path + ".unhealthy_interval", CheckNotNegative(check.unhealthy_interval()));
  errors.Check(path + ".initial_jitter", CheckNotNegative(check.initial_jitter()));
  errors.Check(path + ".interval_jitter", CheckNotNegative(check.interval_jitter()));
}

void ValidateCircuitBreaker(const v1::CircuitBreaker& breaker, const std::string& path,
                            ErrorList& errors) {
  errors.Check(path + ".failure_threshold", CheckAtLeastOne(breaker.failure_threshold()));
  errors.Check(path + ".success_threshold", CheckAtLeastOne(breaker.success_threshold()));
  errors.Check(path + ".timeout", CheckPositive(breaker.timeout()));
  errors.Check(path + ".half_open_max_requests", CheckAtLeastOne(breaker.half_open_max_requests()));
  for (int k = 0; k < breaker.failure_on_size(); ++k) {
    const std::string& kind = breaker.failure_on(k);
    if (kind != "connect-failure" && kind != "reset" && kind != "timeout" && kind != "5xx") {
      errors.Add(path + ".failure_on[" + std::to_string(k) + "]",
                 Quote(kind) + " is not a failure kind (expected connect-failure, reset, timeout or 5xx)");
    }
  }
}

void ValidateOutlierDetection(const v1::OutlierDetection& outlier, const std::string& path,
                              ErrorList& errors) {
  errors.Check(path + ".base_ejection_time", CheckPositive(outlier.base_ejection_time()));
  errors.Check(path + ".max_ejection_time", CheckPositive(outlier.max_ejection_time()));
  if (ToChrono(outlier.max_ejection_time()) < ToChrono(outlier.base_ejection_time())) {
    errors.Add(path + ".max_ejection_time",
               FormatDuration(ToChrono(outlier.max_ejection_time())) +
                   " must be >= base_ejection_time (" +
                   FormatDuration(ToChrono(outlier.base_ejection_time())) + ")");
  }
  if (outlier.max_ejection_percent() > 100) {
    errors.Add(path + ".max_ejection_percent",
               std::to_string(outlier.max_ejection_percent()) + " must be <= 100");
  }
}

void ValidateLoadBalancing(const v1::Cluster& cluster, const std::string& path, ErrorList& errors) {
  const bool hashing = cluster.lb_policy() == v1::RING_HASH || cluster.lb_policy() == v1::MAGLEV;
  for (int k = 0; k < cluster.hash_policy_size(); ++k) {
    const v1::HashPolicy& policy = cluster.hash_policy(k);
    const std::string policy_path = path + ".hash_policy[" + std::to_string(k) + "]";
    switch (policy.key_case()) {
      case v1::HashPolicy::kHeader:
        errors.Check(policy_path + ".header", CheckHeaderName(policy.header()));
        break;
      case v1::HashPolicy::kCookie:
        errors.Check(policy_path + ".cookie", CheckHeaderName(policy.cookie()));
        break;
      case v1::HashPolicy::kSourceIp:
        if (!policy.source_ip()) errors.Add(policy_path + ".source_ip", "only true makes sense here");
        break;
      case v1::HashPolicy::KEY_NOT_SET:
        errors.Add(policy_path, "set one of header, cookie or source_ip");
        break;
    }
  }
  if (!hashing && cluster.hash_policy_size() > 0) {
    errors.Add(path + ".hash_policy",
               "is used only by lb_policy ring_hash or maglev (this cluster uses " +
                   v1::LbPolicy_Name(cluster.lb_policy()) + ")");
  }
  if (cluster.panic_threshold() > 100) {
    errors.Add(path + ".panic_threshold", std::to_string(cluster.panic_threshold()) + " must be <= 100");
  }
  const v1::LeastRequest& lr = cluster.least_request();
  if (lr.choice_count() < 2) errors.Add(path + ".least_request.choice_count", "must be >= 2");
  if (!(lr.active_request_bias() >= 0.0 && lr.active_request_bias() <= 100.0)) {
    errors.Add(path + ".least_request.active_request_bias", "must be between 0 and 100");
  }
  const v1::RingHash& ring = cluster.ring_hash();
  if (ring.minimum_ring_size() < 1) errors.Add(path + ".ring_hash.minimum_ring_size", "must be >= 1");
  if (ring.maximum_ring_size() > 8388608) {
    errors.Add(path + ".ring_hash.maximum_ring_size", "must be <= 8388608");
  }
  if (ring.minimum_ring_size() > ring.maximum_ring_size()) {
    errors.Add(path + ".ring_hash.minimum_ring_size",
               std::to_string(ring.minimum_ring_size()) + " must be <= maximum_ring_size (" +
                   std::to_string(ring.maximum_ring_size()) + ")");
  }
  if (cluster.has_sticky_session()) {
    const v1::StickySession& sticky = cluster.sticky_session();
    const std::string sticky_path = path + ".sticky_session";
    if (sticky.has_cookie() == !sticky.header().empty()) {
      errors.Add(sticky_path, "set exactly one of cookie or header");
    }
    if (!sticky.header().empty()) errors.Check(sticky_path + ".header", CheckHeaderName(sticky.header()));
    if (sticky.has_cookie()) {
      const v1::StickyCookie& cookie = sticky.cookie();
      if (cookie.name().empty()) {
        errors.Add(sticky_path + ".cookie.name", "must not be empty");
      } else {
        errors.Check(sticky_path + ".cookie.name", CheckHeaderName(cookie.name()));
      }
      errors.Check(sticky_path + ".cookie.ttl", CheckNotNegative(cookie.ttl()));
      errors.Check(sticky_path + ".cookie.path", CheckUrlPath(cookie.path()));
      const std::string& same_site = cookie.same_site();
      if (same_site != "Lax" && same_site != "Strict" && same_site != "None") {
        errors.Add(sticky_path + ".cookie.same_site",
                   Quote(same_site) + " is not Lax, Strict or None");
      } else if (same_site == "None" && !cookie.secure()) {
        errors.Add(sticky_path + ".cookie.same_site",
                   "None needs secure: true (browsers drop such cookies otherwise)");
      }
    }
  }
  const v1::ClusterLimits& limits = cluster.limits();
  errors.Check(path + ".limits.max_connections", CheckAtLeastOne(limits.max_connections()));
  errors.Check(path + ".limits.max_pending_requests", CheckAtLeastOne(limits.max_pending_requests()));
  errors.Check(path + ".limits.max_requests", CheckAtLeastOne(limits.max_requests()));
  const v1::RetryBudget& budget = cluster.retry_budget();
  if (!(budget.budget_percent() >= 0.0 && budget.budget_percent() <= 100.0)) {
    errors.Add(path + ".retry_budget.budget_percent", "must be between 0 and 100");
  }
}

void ValidateCluster(const v1::Cluster& cluster, const std::string& path, ErrorList& errors) {
  errors.Check(path + ".name", CheckClusterName(cluster.name()));
  ValidateEndpoints(cluster, path, errors);
  if (!v1::LbPolicy_IsValid(cluster.lb_policy())) {
    errors.Add(path + ".lb_policy", "unknown value " + std::to_string(cluster.lb_policy()));
  }
  errors.Check(path + ".connect_timeout", CheckPositive(cluster.connect_timeout()));
  errors.Check(path + ".dns_refresh", CheckPositive(cluster.dns_refresh()));
  errors.Check(path + ".pool.idle_timeout", CheckPositive(cluster.pool().idle_timeout()));
  ValidateHealthCheck(cluster.health_check(), path + ".health_check", errors);
  ValidateCircuitBreaker(cluster.circuit_breaker(), path + ".circuit_breaker", errors);
  if (cluster.has_outlier_detection()) {
    ValidateOutlierDetection(cluster.outlier_detection(), path + ".outlier_detection", errors);
  }
  ValidateLoadBalancing(cluster, path, errors);
}

}  // namespace

std::vector<ConfigError> ValidateCluster(const v1::Cluster& cluster, int index) {
  ErrorList errors;
  ValidateCluster(cluster, "clusters[" + std::to_string(index) + "]", errors);
  return std::move(errors).Take();
}

std::vector<ConfigError> ValidateClusters(const v1::Config& config) {
  ErrorList errors;
  std::map<std::string, int> names;
  for (int i = 0; i < config.clusters_size(); ++i) {
    const v1::Cluster& cluster = config.clusters(i);
    const std::string path = "clusters[" + std::to_string(i) + "]";
    ValidateCluster(cluster, path, errors);
    if (auto [first, inserted] = names.emplace(cluster.name(), i);
        !inserted && !cluster.name().empty()) {
      errors.Add(path + ".name", "duplicate cluster name " + Quote(cluster.name()) +
                                     " (also clusters[" + std::to_string(first->second) + "])");
    }
  }
  return std::move(errors).Take();
}

}  // namespace hermes::config
