// Where a config value was written: "file.yaml:12:5", looked up by field path.
#include <string>

#include "hermes/common/yaml_reader.h"

namespace hermes::config {

std::string LocationOf(const YAML::Mark& mark, std::string_view source_name) {
  if (mark.is_null()) return "";
  return std::string(source_name) + ":" + std::to_string(mark.line + 1) + ":" +
         std::to_string(mark.column + 1);
}

std::string FindLocation(const SourceLocations& locations, std::string_view path) {
  while (!path.empty()) {
    if (auto it = locations.find(std::string(path)); it != locations.end()) return it->second;
    const size_t parent_end = path.find_last_of(".[");
    path = path.substr(0, parent_end == std::string_view::npos ? 0 : parent_end);
  }
  return "";
}

}  // namespace hermes::config
