// YAML -> any protobuf message, by proto field name, through reflection. Both config formats
// (native and original Hermes) are read by it, so both get the same types, durations, unknown-key
// suggestions, field paths and file positions.
#pragma once

#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hermes/common/config.h"

namespace hermes::config {

// Field path ("clusters[1].health_check.interval") -> where its value was written
// ("file.yaml:12:5"). Holds every field and list element read.
using SourceLocations = std::unordered_map<std::string, std::string>;

struct YamlDocument {
  YAML::Node root;                  // null when the text is empty or could not be parsed
  std::vector<ConfigError> errors;  // syntax errors, each with its position
};

// Parses text holding one YAML document, refusing one over `limits` (size first, then nodes,
// depth and lookahead while yaml-cpp reads it, before the tree is built). Never throws.
YamlDocument ParseYaml(std::string_view text, std::string_view source_name,
                       const DocumentLimits& limits = {});

struct YamlReadResult {
  std::vector<ConfigError> errors;
  SourceLocations locations;
  bool ok() const { return errors.empty(); }
};

// Reads a YAML map into `message`: keys are proto field names, lists fill repeated fields, enums
// take value names ("round-robin"), google.protobuf.Duration takes "10s". A null node (or a key
// with no value) leaves the field unset. Reads everything it can and reports every error.
// Never throws.
YamlReadResult ReadYamlNode(const YAML::Node& node, google::protobuf::Message& message,
                            std::string_view source_name);

// ParseYaml, then ReadYamlNode on the document.
YamlReadResult ReadYamlText(std::string_view text, google::protobuf::Message& message,
                            std::string_view source_name, const DocumentLimits& limits = {});

// "file.yaml:12:5" (1-based) for a yaml-cpp mark; "" for a null mark.
std::string LocationOf(const YAML::Mark& mark, std::string_view source_name);

// The location recorded for `path`, else for its nearest recorded ancestor
// ("clusters[0].endpoints" for "clusters[0].endpoints[3].address"), else "".
std::string FindLocation(const SourceLocations& locations, std::string_view path);

}  // namespace hermes::config
