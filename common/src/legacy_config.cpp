// Translation of the original Hermes (Go) config file into hermes.v1.Config.
#include "legacy_config.h"

#include <array>
#include <utility>

#include "config_defaults.h"

namespace hermes::config {
namespace {

constexpr std::string_view kDefaultName = "default";

struct PathRename {
  std::string_view native;
  std::string_view legacy;
};

constexpr std::array<PathRename, 7> kPathRenames{{
    {"listeners[0].address", "server.listen"},
    {"listeners[0].max_request_body", "buffer.max_request_body"},
    {"admin.address", "server.admin_listen"},
    {"clusters[0].endpoints", "backends"},
    {"clusters[0].lb_policy", "load_balancing.algorithm"},
    {"clusters[0].health_check", "health_check"},
    {"clusters[0].circuit_breaker", "circuit_breaker"},
}};

std::string OrDefault(const std::string& value, std::string_view fallback) {
  return value.empty() ? std::string(fallback) : value;
}

}  // namespace

LegacyTranslation TranslateLegacy(const v1::legacy::LegacyConfig& legacy) {
  LegacyTranslation result;
  v1::Config& config = result.config;

  v1::Listener& listener = *config.add_listeners();
  listener.set_name(std::string(kDefaultName));
  listener.set_address(OrDefault(legacy.server().listen(), kDefaultListenAddress));
  if (legacy.buffer().has_max_request_body()) {
    listener.set_max_request_body(legacy.buffer().max_request_body());
  }
  config.mutable_admin()->set_address(
      OrDefault(legacy.server().admin_listen(), kDefaultAdminAddress));

  v1::Cluster& cluster = *config.add_clusters();
  cluster.set_name(std::string(kDefaultName));
  for (const v1::legacy::LegacyBackend& backend : legacy.backends()) {
    v1::Endpoint& endpoint = *cluster.add_endpoints();
    endpoint.set_address(backend.address());
    endpoint.set_weight(backend.weight() == 0 ? 1 : backend.weight());
  }
  const std::string& algorithm = legacy.load_balancing().algorithm();
  if (algorithm.empty() || algorithm == "round-robin") {
    cluster.set_lb_policy(v1::ROUND_ROBIN);
  } else if (algorithm == "least-connections") {
    cluster.set_lb_policy(v1::LEAST_REQUEST);
  } else {
    result.errors.push_back({"load_balancing.algorithm",
                             "unknown algorithm \"" + algorithm +
                                 "\" (expected \"round-robin\" or \"least-connections\")",
                             ""});
  }
  if (legacy.has_health_check()) *cluster.mutable_health_check() = legacy.health_check();
  if (legacy.has_circuit_breaker()) *cluster.mutable_circuit_breaker() = legacy.circuit_breaker();

  v1::Route& route = *config.add_routes();
  route.set_name(std::string(kDefaultName));
  route.mutable_match()->set_prefix("/");
  route.set_cluster(std::string(kDefaultName));
  return result;
}

std::string LegacyPath(std::string_view native_path) {
  for (const PathRename& rename : kPathRenames) {
    if (!native_path.starts_with(rename.native)) continue;
    std::string_view rest = native_path.substr(rename.native.size());
    if (rest.empty() || rest.front() == '.' || rest.front() == '[') {
      return std::string(rename.legacy) + std::string(rest);
    }
  }
  return std::string(native_path);
}

}  // namespace hermes::config
