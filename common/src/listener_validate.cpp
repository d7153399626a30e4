// Listener and admin address rules: addresses that parse and do not collide, sane limits.
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "config_validate.h"
#include "hermes/common/address.h"
#include "hermes/common/cidr.h"
#include "validation_rules.h"

namespace hermes::config {
namespace {

using BoundAddress = std::pair<std::string, uint16_t>;

// Port 0 asks the kernel for a free port, so two such listeners never collide.
std::optional<BoundAddress> FixedAddress(std::string_view address) {
  std::optional<HostPort> parsed = ParseHostPort(address);
  if (!parsed || parsed->port == 0) return std::nullopt;
  return BoundAddress{parsed->host, parsed->port};
}

void ValidateListener(const v1::Listener& listener, const std::string& path, ErrorList& errors) {
  if (listener.name().empty()) errors.Add(path + ".name", "must not be empty");
  errors.Check(path + ".address", CheckListenAddress(listener.address()));
  errors.Check(path + ".max_connections", CheckPositive(listener.max_connections()));
  errors.Check(path + ".max_header_bytes", CheckPositive(listener.max_header_bytes()));
  errors.Check(path + ".max_request_line_bytes", CheckPositive(listener.max_request_line_bytes()));
  // The request line is part of the head that max_header_bytes bounds.
  if (listener.max_request_line_bytes() > listener.max_header_bytes()) {
    errors.Add(path + ".max_request_line_bytes", std::to_string(listener.max_request_line_bytes()) +
                                                     " must be <= max_header_bytes (" +
                                                     std::to_string(listener.max_header_bytes()) +
                                                     ")");
  }
  errors.Check(path + ".header_timeout", CheckPositive(listener.header_timeout()));
  errors.Check(path + ".idle_timeout", CheckPositive(listener.idle_timeout()));
  errors.Check(path + ".drain_timeout", CheckPositive(listener.drain_timeout()));
  errors.Check(path + ".request_timeout", CheckNotNegative(listener.request_timeout()));
  if (listener.request_timeout().seconds() > 24 * 3600)
    errors.Add(path + ".request_timeout", "must be at most 24h (0s turns it off)");
  for (int i = 0; i < listener.trusted_proxies_size(); ++i) {
    std::string why;
    if (!ParseCidr(listener.trusted_proxies(i), &why))
      errors.Add(path + ".trusted_proxies[" + std::to_string(i) + "]", why);
  }
  const std::string& slashes = listener.escaped_slashes();
  if (slashes != "reject" && slashes != "keep" && slashes != "unescape") {
    errors.Add(path + ".escaped_slashes",
               Quote(slashes) + " is not one of \"reject\", \"keep\", \"unescape\"");
  }
}

}  // namespace

std::vector<ConfigError> ValidateListeners(const v1::Config& config) {
  ErrorList errors;
  std::map<std::string, int> names;
  std::map<BoundAddress, int> addresses;
  for (int i = 0; i < config.listeners_size(); ++i) {
    const v1::Listener& listener = config.listeners(i);
    const std::string path = "listeners[" + std::to_string(i) + "]";
    ValidateListener(listener, path, errors);
    if (auto [first, inserted] = names.emplace(listener.name(), i);
        !inserted && !listener.name().empty()) {
      errors.Add(path + ".name", "duplicate listener name " + Quote(listener.name()) +
                                     " (also listeners[" + std::to_string(first->second) + "])");
    }
    if (std::optional<BoundAddress> bound = FixedAddress(listener.address())) {
      if (auto [first, inserted] = addresses.emplace(*bound, i); !inserted) {
        errors.Add(path + ".address", Quote(listener.address()) + " is already used by listeners[" +
                                          std::to_string(first->second) + "]");
      }
    }
  }

  const std::string& admin = config.admin().address();
  errors.Check("admin.max_connections", CheckPositive(config.admin().max_connections()));
  if (admin != "off") {
    errors.Check("admin.address", CheckListenAddress(admin));
    if (std::optional<BoundAddress> bound = FixedAddress(admin)) {
      if (auto it = addresses.find(*bound); it != addresses.end()) {
        errors.Add("admin.address", Quote(admin) + " is also the address of listener " +
                                        Quote(config.listeners(it->second).name()) +
                                        " (use another port, or \"off\")");
      }
    }
  }
  return std::move(errors).Take();
}

}  // namespace hermes::config
