// Network addresses as written in config: "host:port", ":port", "[v6]:port".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hermes {

struct HostPort {
  std::string host;  // "" means all interfaces (only meaningful for listeners); no brackets for v6
  uint16_t port = 0;
};

// Parses "host:port", ":port", "[::1]:port". Port 0 is accepted (tests bind ephemeral ports).
// On failure returns nullopt and, if `error` is set, a reason such as "missing port".
std::optional<HostPort> ParseHostPort(std::string_view text, std::string* error = nullptr);

}  // namespace hermes
