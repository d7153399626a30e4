// Command-line flags of `hermes`, parsed with CLI11 (hermes/common/daemon_flags.h). Go-style
// single-dash flags (-config) are accepted as well as double-dash ones, because the original
// Hermes was started as `hermes -config config.yaml`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hermes/common/result.h"

namespace hermes::dataplane {

struct Options {
  std::string config_path;
  bool validate = false;
  bool show_version = false;
  bool show_help = false;
  unsigned workers = 0;  // 0 = number of cores
  std::optional<uint64_t> max_config_bytes;  // -config file size limit; unset = the default
  std::string log_level = "info";
  // Managed mode (--control-plane): config comes from hermes-controlplane.
  std::string control_plane;  // "host:port"
  std::string node_id;
  std::string group;
  std::vector<std::pair<std::string, std::string>> labels;
  std::string cache_dir = "./hermes-cache";
  std::string listen;        // overrides the pushed listener address ("" = as pushed)
  std::string admin_listen;  // overrides the pushed admin address
  std::string token_file;
};

// The options, or what was wrong with the command line.
Result<Options> ParseOptions(const std::vector<std::string>& args);
std::string UsageText();

}  // namespace hermes::dataplane
