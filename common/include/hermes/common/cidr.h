// IP networks as written in config ("10.0.0.0/8", "::1/128", or a single address) and a set of
// them to test client addresses against: trusted proxies today, IP ACLs next. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) are matched as the IPv4 address they carry.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace hermes {

struct Cidr {
  bool v4 = true;
  std::array<uint8_t, 16> bytes{};  // network address (4 bytes used for IPv4), host bits zero
  uint8_t prefix = 0;               // 0..32 or 0..128

  bool Contains(const boost::asio::ip::address& address) const;
};

// Parses "a.b.c.d/n", "v6/n", or an address alone (a /32 or /128). On failure returns nullopt
// and, if `error` is set, a reason. Host bits set below the prefix are an error
// ("10.1.2.3/8": did you mean 10.0.0.0/8?), as in most firewalls' config checks.
std::optional<Cidr> ParseCidr(std::string_view text, std::string* error = nullptr);

// ::ffff:a.b.c.d as a.b.c.d; any other address as it is.
boost::asio::ip::address Unmapped(const boost::asio::ip::address& address);

class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(std::vector<Cidr> networks) : networks_(std::move(networks)) {}
  bool empty() const { return networks_.empty(); }
  bool Contains(const boost::asio::ip::address& address) const;

 private:
  std::vector<Cidr> networks_;
};

}  // namespace hermes
