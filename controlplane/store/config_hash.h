// The content identity of a config: its deterministic serialization and that serialization's hash.
#pragma once

#include <string>
#include <string_view>

#include "hermes/v1/config.pb.h"

namespace hermes::controlplane {

// SerializeToString with deterministic serialization (map entries sorted), so equal configs give
// equal bytes within one protobuf version.
std::string SerializeDeterministic(const v1::Config& config);

// Lowercase hex SHA-256 of `bytes` (64 characters).
std::string Sha256Hex(std::string_view bytes);

}  // namespace hermes::controlplane
