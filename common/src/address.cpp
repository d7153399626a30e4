// "host:port" text as written in listener, admin and endpoint addresses.
#include "hermes/common/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>
#include <utility>

#include "hermes/common/host_name.h"

namespace hermes {
namespace {

void SetError(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
}

std::optional<HostPort> Fail(std::string* error, std::string reason) {
  SetError(error, std::move(reason));
  return std::nullopt;
}

bool IsIpv6(std::string_view text) {
  in6_addr address{};
  return inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
}

// `text` is what follows the host's ':'.
std::optional<uint16_t> ParsePort(std::string_view text, std::string* error) {
  if (text.empty()) {
    SetError(error, "missing port");
    return std::nullopt;
  }
  if (text.find_first_not_of("0123456789") != std::string_view::npos) {
    SetError(error, "port \"" + std::string(text) + "\" is not a number");
    return std::nullopt;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || value > 65535) {
    SetError(error, "port out of range (0-65535)");
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

std::optional<HostPort> ParseBracketed(std::string_view text, std::string* error) {
  const size_t close = text.find(']');
  if (close == std::string_view::npos) return Fail(error, "invalid IPv6 literal: missing ']'");
  std::string_view host = text.substr(1, close - 1);
  if (!IsIpv6(host)) return Fail(error, "invalid IPv6 literal \"" + std::string(host) + "\"");
  std::string_view rest = text.substr(close + 1);
  if (rest.empty()) return Fail(error, "missing port");
  if (rest.front() != ':') return Fail(error, "unexpected text after ']'");
  auto port = ParsePort(rest.substr(1), error);
  if (!port) return std::nullopt;
  return HostPort{std::string(host), *port};
}

}  // namespace

std::optional<HostPort> ParseHostPort(std::string_view text, std::string* error) {
  if (text.empty()) return Fail(error, "empty address");
  if (text.find("://") != std::string_view::npos) {
    return Fail(error, "a URL scheme is not allowed");
  }
  if (text.front() == '[') return ParseBracketed(text, error);
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Fail(error, "missing port");
  std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {
    return Fail(error, "an IPv6 address must be in brackets, e.g. [::1]:8080");
  }
  if (!host.empty() && !IsHostName(host)) {
    return Fail(error, "invalid host \"" + std::string(host) + "\"");
  }
  auto port = ParsePort(text.substr(colon + 1), error);
  if (!port) return std::nullopt;
  return HostPort{std::string(host), *port};
}

}  // namespace hermes
