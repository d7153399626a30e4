#include "hermes/common/cidr.h"

#include <charconv>

namespace hermes {
namespace {

namespace ip = boost::asio::ip;

bool PrefixMatches(const uint8_t* a, const uint8_t* net, unsigned prefix) {
  unsigned full = prefix / 8;
  for (unsigned i = 0; i < full; ++i) {
    if (a[i] != net[i]) return false;
  }
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == net[full];
}

}  // namespace

ip::address Unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  return address;
}

bool Cidr::Contains(const ip::address& raw) const {
  ip::address address = Unmapped(raw);
  if (v4 != address.is_v4()) return false;
  if (v4) {
    auto b = address.to_v4().to_bytes();
    return PrefixMatches(b.data(), bytes.data(), prefix);
  }
  auto b = address.to_v6().to_bytes();
  return PrefixMatches(b.data(), bytes.data(), prefix);
}

std::optional<Cidr> ParseCidr(std::string_view text, std::string* error) {
  auto fail = [&](std::string reason) -> std::optional<Cidr> {
    if (error) *error = std::move(reason);
    return std::nullopt;
  };
  std::string_view addr = text;
  std::optional<unsigned> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view p = text.substr(slash + 1);
    unsigned n = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (p.empty() || ec != std::errc() || ptr != p.data() + p.size())
      return fail("invalid prefix length \"" + std::string(p) + "\"");
    prefix = n;
  }
  boost::system::error_code ec;
  ip::address parsed = ip::make_address(std::string(addr), ec);
  if (ec) return fail("not an IP address or network: \"" + std::string(text) + "\"");
  if (parsed.is_v6() && parsed.to_v6().scope_id() != 0) return fail("zone ids are not supported");
  if (parsed.is_v6() && parsed.to_v6().is_v4_mapped()) {
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8: peers are matched as IPv4 (see Unmapped).
    if (prefix && (*prefix < 96 || *prefix > 128))
      return fail("an IPv4-mapped network needs a prefix length of 96 to 128");
    parsed = Unmapped(parsed);
    if (prefix) *prefix -= 96;
  }
  Cidr cidr;
  cidr.v4 = parsed.is_v4();
  unsigned max = cidr.v4 ? 32 : 128;
  if (prefix && *prefix > max)
    return fail("prefix length " + std::to_string(*prefix) + " is over " + std::to_string(max));
  cidr.prefix = static_cast<uint8_t>(prefix.value_or(max));
  std::array<uint8_t, 16> raw{};
  if (cidr.v4) {
    auto b = parsed.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), raw.begin());
  } else {
    raw = parsed.to_v6().to_bytes();
  }
  cidr.bytes = raw;
  for (unsigned bit = cidr.prefix; bit < max; ++bit) cidr.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  if (cidr.bytes != raw) {
    ip::address network = cidr.v4 ? ip::address(ip::address_v4(ip::address_v4::bytes_type{
                                        cidr.bytes[0], cidr.bytes[1], cidr.bytes[2], cidr.bytes[3]}))
                                  : ip::address(ip::address_v6(cidr.bytes));
    return fail("\"" + std::string(text) + "\" has host bits set (the network is " + network.to_string() +
                "/" + std::to_string(cidr.prefix) + ")");
  }
  return cidr;
}

bool CidrSet::Contains(const ip::address& address) const {
  for (const Cidr& c : networks_) {
    if (c.Contains(address)) return true;
  }
  return false;
}

}  // namespace hermes
