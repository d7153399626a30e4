// Loading Hermes config: YAML (native or original-Hermes format) -> hermes.v1.Config, defaults,
// and validation that reports every error with its field path (and file position when known).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hermes/v1/config.pb.h"

namespace hermes::config {

struct ConfigError {
  std::string path;      // field path in the schema, e.g. "clusters[1].health_check.interval"
  std::string message;   // what is wrong, e.g. "must be > 0"
  std::string location;  // "file.yaml:12:5" when known, else ""
  std::string ToString() const;  // "file.yaml:12:5: clusters[1].health_check.interval: must be > 0"
};

enum class SourceFormat { kNative, kLegacy };

struct LoadResult {
  hermes::v1::Config config;  // with defaults applied; meaningful only when ok()
  std::vector<ConfigError> errors;
  SourceFormat format = SourceFormat::kNative;
  bool ok() const { return errors.empty(); }
};

// Reads, translates (original format), applies defaults and validates. Never throws.
LoadResult LoadConfigFile(const std::string& path);
LoadResult LoadConfigString(std::string_view yaml, std::string_view source_name = "<config>");

// Fills every absent field with its documented default (see config.proto comments).
void ApplyDefaults(hermes::v1::Config& config);

// Checks a config with defaults applied; returns every error found (empty = valid).
std::vector<ConfigError> Validate(const hermes::v1::Config& config);

}  // namespace hermes::config
