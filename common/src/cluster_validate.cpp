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
}

void ValidateCircuitBreaker(const v1::CircuitBreaker& breaker, const std::string& path,
                            ErrorList& errors) {
  errors.Check(path + ".failure_threshold", CheckAtLeastOne(breaker.failure_threshold()));
  errors.Check(path + ".success_threshold", CheckAtLeastOne(breaker.success_threshold()));
  errors.Check(path + ".timeout", CheckPositive(breaker.timeout()));
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
}

}  // namespace

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
