// Durations as written in config files: "500ms", "2s", "1m30s", "1h", "250us", "0s".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/duration.pb.h>

namespace hermes {

// Go-style duration syntax: one or more <decimal number><unit>, units ns us µs ms s m h.
// Returns nullopt on any syntax error or overflow; negative durations are rejected.
std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// Shortest exact Go-style text: 90s -> "1m30s", 0 -> "0s", 1500us -> "1.5ms".
std::string FormatDuration(std::chrono::nanoseconds d);

std::chrono::nanoseconds ToChrono(const google::protobuf::Duration& d);
google::protobuf::Duration ToProto(std::chrono::nanoseconds d);

}  // namespace hermes
