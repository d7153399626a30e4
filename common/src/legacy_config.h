// The original Hermes config format, translated into the one schema.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hermes/common/config.h"
#include "hermes/v1/legacy.pb.h"

namespace hermes::config {

struct LegacyTranslation {
  v1::Config config;                // before defaults
  std::vector<ConfigError> errors;  // paths in the original format, e.g. load_balancing.algorithm
};

// One listener "default", one cluster "default" holding the backends, one route "default" sending
// everything to it; health check and circuit breaker settings go to that cluster.
LegacyTranslation TranslateLegacy(const v1::legacy::LegacyConfig& legacy);

// The original-format path a translated field came from, so that errors name what the user wrote:
// "clusters[0].endpoints[2].address" -> "backends[2].address". Other paths are returned unchanged.
std::string LegacyPath(std::string_view native_path);

}  // namespace hermes::config
