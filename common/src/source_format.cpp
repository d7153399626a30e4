// Native vs original Hermes format: the original file runs unchanged, so it is recognised, not
// declared.
#include "source_format.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "hermes/common/yaml_reader.h"

namespace hermes::config {
namespace {

constexpr std::array<std::string_view, 4> kNativeKeys{"listeners", "routes", "clusters", "admin"};
constexpr std::array<std::string_view, 6> kLegacyKeys{
    "server", "backends", "load_balancing", "health_check", "circuit_breaker", "buffer"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

constexpr std::string_view kExpectedKeys =
    "expected a map with listeners, routes, clusters and admin, or the original Hermes keys "
    "server, backends, load_balancing, health_check, circuit_breaker and buffer";

}  // namespace

DetectedFormat DetectFormat(const YAML::Node& root, std::string_view source_name) {
  DetectedFormat result;
  if (root.IsNull()) {
    result.errors.push_back({"", "the config is empty (" + std::string(kExpectedKeys) + ")",
                             LocationOf(root.Mark(), source_name)});
    return result;
  }
  if (!root.IsMap()) {
    const std::string kind = root.IsSequence() ? "a list" : "a single value";
    result.errors.push_back({"",
                             "the top level is " + kind + " (" + std::string(kExpectedKeys) + ")",
                             LocationOf(root.Mark(), source_name)});
    return result;
  }
  std::optional<YAML::Node> native_key;
  std::optional<YAML::Node> legacy_key;
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) continue;
    if (!native_key && Contains(kNativeKeys, entry.first.Scalar())) native_key = entry.first;
    if (!legacy_key && Contains(kLegacyKeys, entry.first.Scalar())) legacy_key = entry.first;
  }
  if (!legacy_key) return result;
  result.format = SourceFormat::kLegacy;
  if (native_key) {
    result.errors.push_back(
        {"",
         "'" + legacy_key->Scalar() + "' belongs to the original Hermes format but '" +
             native_key->Scalar() + "' (line " + std::to_string(native_key->Mark().line + 1) +
             ") belongs to the native format; write the file in one format",
         LocationOf(legacy_key->Mark(), source_name)});
  }
  return result;
}

}  // namespace hermes::config
