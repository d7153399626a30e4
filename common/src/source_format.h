// Which format a config file is written in, decided by its top-level keys.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

#include "hermes/common/config.h"

namespace hermes::config {

struct DetectedFormat {
  SourceFormat format = SourceFormat::kNative;
  std::vector<ConfigError> errors;  // empty document, not a map, or keys of both formats
};

// The original Hermes format has any of server, backends, load_balancing, health_check,
// circuit_breaker, buffer at the top and none of the native listeners, routes, clusters, admin.
DetectedFormat DetectFormat(const YAML::Node& root, std::string_view source_name);

}  // namespace hermes::config
