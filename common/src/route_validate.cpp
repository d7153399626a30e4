// Route rules: a known cluster, a well-formed match, and headers that cannot inject lines.
#include <map>
#include <set>
#include <string>

#include "config_validate.h"
#include "hermes/common/ascii.h"
#include "hermes/common/duration.h"
#include "hermes/common/host_name.h"
#include "validation_rules.h"

namespace hermes::config {
namespace {

// "" (any host), an exact host name, or "*.suffix" for any subdomain of suffix.
std::optional<std::string> CheckHostPattern(std::string_view host) {
  if (host.empty()) return std::nullopt;
  std::string_view name = host.starts_with("*.") ? host.substr(2) : host;
  if (IsHostName(name)) return std::nullopt;
  return Quote(host) +
         " is not a host pattern (expected a host name such as \"api.example.com\" "
         "or \"*.example.com\")";
}

void ValidateMatch(const v1::RouteMatch& match, const std::string& path, ErrorList& errors) {
  errors.Check(path + ".host", CheckHostPattern(match.host()));
  if (!match.prefix().empty() && !match.prefix().starts_with('/')) {
    errors.Add(path + ".prefix", Quote(match.prefix()) + " must start with '/'");
  }
  if (!match.path().empty() && !match.path().starts_with('/')) {
    errors.Add(path + ".path", Quote(match.path()) + " must start with '/'");
  }
  if (!match.prefix().empty() && !match.path().empty()) {
    errors.Add(path, "set either prefix or path, not both");
  }
}

// Upgrade types are RFC 9110 tokens (the protocol name, without a version); each listed once.
void ValidateUpgrades(const v1::Route& route, const std::string& path, ErrorList& errors) {
  std::set<std::string> seen;
  for (int i = 0; i < route.upgrade_configs_size(); ++i) {
    const std::string type = AsciiLower(route.upgrade_configs(i).upgrade_type());
    const std::string at = path + ".upgrade_configs[" + std::to_string(i) + "].upgrade_type";
    if (type.empty()) {
      errors.Add(at, "must be set (e.g. \"websocket\")");
    } else if (CheckHeaderName(type)) {
      errors.Add(at, Quote(type) + " is not a protocol token");
    } else if (type == "h2c") {
      errors.Add(at, "h2c upgrades are never forwarded (HTTP/2 to upstreams is a cluster setting)");
    } else if (!seen.insert(type).second) {
      errors.Add(at, Quote(type) + " is listed twice");
    }
  }
}

void ValidateHeaders(const google::protobuf::RepeatedPtrField<v1::Header>& add,
                     const google::protobuf::RepeatedPtrField<std::string>& remove,
                     const std::string& add_path, const std::string& remove_path,
                     ErrorList& errors) {
  for (int k = 0; k < add.size(); ++k) {
    const std::string path = add_path + "[" + std::to_string(k) + "]";
    errors.Check(path + ".name", CheckHeaderName(add[k].name()));
    errors.Check(path + ".value", CheckHeaderValue(add[k].value()));
  }
  for (int k = 0; k < remove.size(); ++k) {
    errors.Check(remove_path + "[" + std::to_string(k) + "]", CheckHeaderName(remove[k]));
  }
}

void ValidateRetryPolicy(const v1::Route& route, const std::string& path, ErrorList& errors) {
  const v1::RetryPolicy& retry = route.retry_policy();
  bool status_codes = false;
  for (int k = 0; k < retry.retry_on_size(); ++k) {
    const std::string& on = retry.retry_on(k);
    if (on == "retriable-status-codes") status_codes = true;
    if (on != "connect-failure" && on != "reset" && on != "timeout" && on != "5xx" &&
        on != "gateway-error" && on != "retriable-status-codes") {
      errors.Add(path + ".retry_on[" + std::to_string(k) + "]",
                 Quote(on) + " is not a retry condition (expected connect-failure, reset, timeout, "
                             "5xx, gateway-error or retriable-status-codes)");
    }
  }
  if (status_codes && retry.retriable_status_codes().empty()) {
    errors.Add(path + ".retriable_status_codes", "must list codes when retry_on has retriable-status-codes");
  }
  for (int k = 0; k < retry.retriable_status_codes_size(); ++k) {
    uint32_t code = retry.retriable_status_codes(k);
    if (code < 100 || code > 599) {
      errors.Add(path + ".retriable_status_codes[" + std::to_string(k) + "]",
                 std::to_string(code) + " is not an HTTP status code (100-599)");
    }
  }
  if (retry.num_retries() > 10) {
    errors.Add(path + ".num_retries", std::to_string(retry.num_retries()) + " must be <= 10");
  }
  errors.Check(path + ".per_try_timeout", CheckNotNegative(retry.per_try_timeout()));
  auto route_timeout = ToChrono(route.timeout());
  if (route_timeout.count() > 0 && ToChrono(retry.per_try_timeout()) > route_timeout) {
    errors.Add(path + ".per_try_timeout", FormatDuration(ToChrono(retry.per_try_timeout())) +
                                              " must be <= the route timeout (" +
                                              FormatDuration(route_timeout) + ")");
  }
  errors.Check(path + ".backoff_base_interval", CheckPositive(retry.backoff_base_interval()));
  if (ToChrono(retry.backoff_max_interval()) < ToChrono(retry.backoff_base_interval())) {
    errors.Add(path + ".backoff_max_interval",
               FormatDuration(ToChrono(retry.backoff_max_interval())) +
                   " must be >= backoff_base_interval (" +
                   FormatDuration(ToChrono(retry.backoff_base_interval())) + ")");
  }
}

// The first few names only: a config of 20,000 routes to missing clusters would otherwise build
// 20,000 copies of a 20,000-name list.
std::string ClusterNames(const v1::Config& config) {
  constexpr int kListed = 10;
  if (config.clusters().empty()) return "no clusters are defined";
  std::string names;
  for (int i = 0; i < config.clusters_size() && i < kListed; ++i) {
    names += (names.empty() ? "" : ", ") + config.clusters(i).name();
  }
  if (config.clusters_size() > kListed)
    names += " and " + std::to_string(config.clusters_size() - kListed) + " more";
  return "defined: " + names;
}

}  // namespace

std::vector<ConfigError> ValidateRoutes(const v1::Config& config) {
  ErrorList errors;
  std::set<std::string> clusters;
  for (const v1::Cluster& cluster : config.clusters()) clusters.insert(cluster.name());
  std::map<std::string, int> names;
  for (int i = 0; i < config.routes_size(); ++i) {
    const v1::Route& route = config.routes(i);
    const std::string path = "routes[" + std::to_string(i) + "]";
    if (route.name().empty()) {
      errors.Add(path + ".name", "must not be empty");
    } else if (auto [first, inserted] = names.emplace(route.name(), i); !inserted) {
      errors.Add(path + ".name", "duplicate route name " + Quote(route.name()) + " (also routes[" +
                                     std::to_string(first->second) + "])");
    }
    if (route.cluster().empty()) {
      errors.Add(path + ".cluster", "must be set (expected the name of a cluster)");
    } else if (!clusters.contains(route.cluster())) {
      errors.Add(path + ".cluster",
                 "no cluster named " + Quote(route.cluster()) + " (" + ClusterNames(config) + ")");
    }
    ValidateMatch(route.match(), path + ".match", errors);
    ValidateHeaders(route.request_headers_to_add(), route.request_headers_to_remove(),
                    path + ".request_headers_to_add", path + ".request_headers_to_remove", errors);
    ValidateHeaders(route.response_headers_to_add(), route.response_headers_to_remove(),
                    path + ".response_headers_to_add", path + ".response_headers_to_remove",
                    errors);
    errors.Check(path + ".timeout", CheckNotNegative(route.timeout()));
    if (route.has_retry_policy()) ValidateRetryPolicy(route, path + ".retry_policy", errors);
    ValidateUpgrades(route, path, errors);
  }
  return std::move(errors).Take();
}

}  // namespace hermes::config
