// Host names as written in config: DNS names and IPv4 literals (not IPv6, which needs brackets).
#pragma once

#include <string_view>

namespace hermes {

// True for a DNS name ("backend-1.internal", "localhost") or a dotted IPv4 address: letters,
// digits, '-' and '.', no empty labels, at most 253 characters. All-numeric names must be IPv4.
bool IsHostName(std::string_view text);

}  // namespace hermes
