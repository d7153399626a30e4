// Renders a config message as YAML in the native format, so that what the control plane stores
// can be shown (`hermesctl get config`), diffed, and read back by the same YAML reader.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

namespace hermes::config {

// Block-style YAML: keys are field names, durations "10s", enums lower case, strings quoted.
// Fields that are not set (and proto3 scalars at their zero value) are left out.
std::string ToYaml(const google::protobuf::Message& message);

}  // namespace hermes::config
