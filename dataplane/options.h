// Command-line flags of `hermes`. Go-style single-dash flags (-config) are accepted as well as
// double-dash ones, because the original Hermes was started as `hermes -config config.yaml`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hermes::dataplane {

struct Options {
  std::string config_path;
  bool validate = false;
  bool show_version = false;
  bool show_help = false;
  unsigned workers = 0;  // 0 = number of cores
  std::string log_level = "info";
};

struct ParsedOptions {
  Options options;
  std::string error;  // non-empty: what was wrong with the command line
};

ParsedOptions ParseOptions(const std::vector<std::string>& args);
std::string UsageText();

}  // namespace hermes::dataplane
