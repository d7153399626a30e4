// Loading Hermes config: YAML (native or original-Hermes format) -> hermes.v1.Config, defaults,
// and validation that reports every error with its field path (and file position when known).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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

// Bounds on one config document, so that a small file cannot cost a large amount of memory:
// yaml-cpp's tree takes some 500 bytes per node, and it holds a flow collection ([...], {...})
// that starts a document or a list item as tokens of about 250 bytes per input byte until the
// collection ends. The size is checked before parsing, the rest while parsing (events, before
// any tree is built).
struct DocumentLimits {
  static constexpr size_t kDefaultMaxBytes = 4 * 1024 * 1024;
  size_t max_bytes = kDefaultMaxBytes;  // the document's size (--max-config-bytes)
  // Scalars, lists and maps, keys included; an alias counts as the size of the node it names,
  // since reading it reads that node again. 10,000 endpoints (address, weight) are 50,000.
  size_t max_nodes = 200'000;
  size_t max_depth = 64;  // lists and maps nested in each other
  // How far yaml-cpp may read past the last node it has handed over (one long value, or a flow
  // collection held whole); bounds its token queue to some 65 MB.
  size_t max_lookahead_bytes = 256 * 1024;
};

// An error naming `source_name` and both sizes when `bytes` is over `max_bytes`:
// "config.yaml: 5242880 bytes is over the 4194304-byte limit (--max-config-bytes)".
std::optional<ConfigError> CheckDocumentSize(uint64_t bytes, size_t max_bytes,
                                             std::string_view source_name);

// Reads, translates (original format), applies defaults and validates. Never throws. A file
// over limits.max_bytes is refused without being read.
LoadResult LoadConfigFile(const std::string& path, const DocumentLimits& limits = {});
LoadResult LoadConfigString(std::string_view yaml, std::string_view source_name = "<config>",
                            const DocumentLimits& limits = {});

// A partial config for a merge (hermesctl apply --merge), read but not merged yet.
struct ConfigFragment {
  hermes::v1::Config config;  // listeners, routes and clusters only
  std::unordered_map<std::string, std::string> locations;  // field path -> "file:line:col"
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

// Reads `yaml` (native format; blank, comments only or "---" is an empty fragment) within
// `limits`. `admin` and `sticky_secret` are refused: they are not merged. Never throws.
ConfigFragment ReadConfigFragment(std::string_view yaml, std::string_view source_name,
                                  const DocumentLimits& limits = {});

struct MergeResult {
  LoadResult merged;  // the whole config, defaults applied and validated
  // What the merge touched, in merged order, for a diff: the entries it put in (and any the
  // defaults added), and the base's entries they replaced followed by those removed.
  hermes::v1::Config replaced;
  hermes::v1::Config added;
};

// Each listener, route and cluster of `fragment` (each must have its name) replaces the whole
// entry of that name in `base` (a whole config with defaults applied, as stored), keeping its
// place, or is added after the others; `remove` takes entries out ("clusters/NAME",
// "routes/NAME", "listeners/NAME"). Nothing else of `base` changes. The result gets the
// defaults, is held to limits.max_bytes (its serialized size) and is validated whole: an error
// in an entry of the fragment carries its path and position there, one in an entry of the base
// its path in the base with `base_name` (e.g. "v7") as its location. Never throws.
MergeResult MergeConfig(const hermes::v1::Config& base, const ConfigFragment& fragment,
                        const std::vector<std::string>& remove, std::string_view base_name,
                        const DocumentLimits& limits = {});
// ReadConfigFragment, then MergeConfig.
MergeResult MergeConfigString(const hermes::v1::Config& base, std::string_view yaml,
                              std::string_view source_name, const std::vector<std::string>& remove,
                              std::string_view base_name, const DocumentLimits& limits = {});

// Fills every absent field with its documented default (see config.proto comments).
void ApplyDefaults(hermes::v1::Config& config);

// Checks a config with defaults applied; returns every error found (empty = valid).
std::vector<ConfigError> Validate(const hermes::v1::Config& config);

// Parts of the two above, for a proxy that applies a config resource by resource (what
// Validate() checks across parts is left to the caller: unique cluster names).
void ApplyClusterDefaults(hermes::v1::Cluster& cluster);
// The errors of one cluster, with paths from "clusters[index]".
std::vector<ConfigError> ValidateCluster(const hermes::v1::Cluster& cluster, int index);
// The routes' errors; of the clusters only their names are read (routes[i].cluster).
std::vector<ConfigError> ValidateRoutes(const hermes::v1::Config& config);

}  // namespace hermes::config
