// Rules shared by the validation of listeners, routes and clusters. Each Check* returns what is
// wrong (and what is expected) or nullopt when the value is fine.
#pragma once

#include <google/protobuf/duration.pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hermes/common/config.h"

namespace hermes::config {

class ErrorList {
 public:
  void Add(std::string path, std::string message) {
    errors_.push_back({std::move(path), std::move(message), ""});
  }
  void Check(std::string path, std::optional<std::string> problem) {
    if (problem) Add(std::move(path), std::move(*problem));
  }
  std::vector<ConfigError> Take() && { return std::move(errors_); }

 private:
  std::vector<ConfigError> errors_;
};

std::string Quote(std::string_view text);

std::optional<std::string> CheckPositive(const google::protobuf::Duration& duration);
std::optional<std::string> CheckNotNegative(const google::protobuf::Duration& duration);
std::optional<std::string> CheckPositive(uint64_t value);
std::optional<std::string> CheckAtLeastOne(uint64_t value);

// A path sent upstream: starts with '/', no spaces or control characters.
std::optional<std::string> CheckUrlPath(std::string_view path);

// Header names are RFC 9110 tokens; values must not contain CR, LF or NUL (header injection).
std::optional<std::string> CheckHeaderName(std::string_view name);
std::optional<std::string> CheckHeaderValue(std::string_view value);

// "host:port", ":port" or "[v6]:port" to bind; port 0 picks a free port.
std::optional<std::string> CheckListenAddress(std::string_view address);

// "host:port" to connect to: a host name, IPv4 or [IPv6] host, and a port 1..65535.
std::optional<std::string> CheckEndpointAddress(std::string_view address);

}  // namespace hermes::config
