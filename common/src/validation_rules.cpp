// Value rules used across config validation, each phrased as "what is wrong (what is expected)".
#include "validation_rules.h"

#include <algorithm>

#include "hermes/common/address.h"
#include "hermes/common/duration.h"

namespace hermes::config {
namespace {

// RFC 9110 section 5.6.2: tchar.
bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string AddressProblem(std::string_view address, std::string_view reason,
                           std::string_view expected) {
  const std::string what = reason == "missing port"
                               ? "is missing a port"
                               : "is not a valid address: " + std::string(reason);
  return Quote(address) + " " + what + " (expected " + std::string(expected) + ")";
}

}  // namespace

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::optional<std::string> CheckPositive(const google::protobuf::Duration& duration) {
  if (ToChrono(duration).count() > 0) return std::nullopt;
  return "must be > 0 (got " + FormatDuration(ToChrono(duration)) + ")";
}

std::optional<std::string> CheckNotNegative(const google::protobuf::Duration& duration) {
  if (ToChrono(duration).count() >= 0) return std::nullopt;
  return "must be >= 0 (got " + FormatDuration(ToChrono(duration)) + ")";
}

std::optional<std::string> CheckPositive(uint64_t value) {
  if (value > 0) return std::nullopt;
  return "must be > 0";
}

std::optional<std::string> CheckAtLeastOne(uint64_t value) {
  if (value >= 1) return std::nullopt;
  return "must be >= 1 (got " + std::to_string(value) + ")";
}

std::optional<std::string> CheckUrlPath(std::string_view path) {
  if (!path.starts_with('/')) return Quote(path) + " must start with '/'";
  const bool clean = std::all_of(path.begin(), path.end(), [](char c) {
    return static_cast<unsigned char>(c) > ' ' && c != '\x7f';
  });
  if (!clean) return Quote(path) + " must not contain spaces or control characters";
  return std::nullopt;
}

std::optional<std::string> CheckHeaderName(std::string_view name) {
  if (name.empty()) return "must not be empty (expected a header name)";
  if (std::all_of(name.begin(), name.end(), IsTokenChar)) return std::nullopt;
  return Quote(name) + " is not a valid header name (expected letters, digits and !#$%&'*+-.^_`|~)";
}

std::optional<std::string> CheckHeaderValue(std::string_view value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) {
    return std::nullopt;
  }
  return "must not contain CR, LF or NUL characters";
}

std::optional<std::string> CheckListenAddress(std::string_view address) {
  constexpr std::string_view kExpected = "host:port, :port or [v6]:port";
  if (address.empty()) return "must be set (expected " + std::string(kExpected) + ")";
  std::string reason;
  if (ParseHostPort(address, &reason)) return std::nullopt;
  return AddressProblem(address, reason, kExpected);
}

std::optional<std::string> CheckEndpointAddress(std::string_view address) {
  constexpr std::string_view kExpected = "host:port";
  if (address.empty()) return "must be set (expected " + std::string(kExpected) + ")";
  std::string reason;
  std::optional<HostPort> parsed = ParseHostPort(address, &reason);
  if (!parsed) return AddressProblem(address, reason, kExpected);
  if (parsed->host.empty()) return Quote(address) + " is missing a host (expected host:port)";
  if (parsed->port == 0) return Quote(address) + " has port 0 (expected a port 1-65535)";
  return std::nullopt;
}

}  // namespace hermes::config
