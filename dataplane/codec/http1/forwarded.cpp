#include "dataplane/codec/http1/forwarded.h"

#include <cstring>
#include <optional>

#include "dataplane/codec/http1/checks.h"

namespace hermes::dataplane::http1 {
namespace {

namespace ip = boost::asio::ip;

// "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]:80" as an address.
std::optional<ip::address> ParseHop(std::string_view hop) {
  if (hop.starts_with('[')) {
    auto close = hop.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hop = hop.substr(1, close - 1);
  } else if (hop.find(':') == hop.rfind(':') && hop.find(':') != std::string_view::npos) {
    hop = hop.substr(0, hop.find(':'));  // IPv4 with a port
  }
  char text[64];
  if (hop.empty() || hop.size() >= sizeof text) return std::nullopt;
  std::memcpy(text, hop.data(), hop.size());
  text[hop.size()] = '\0';
  boost::system::error_code ec;
  ip::address a = ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return Unmapped(a);
}

}  // namespace

void ResolveClient(const RequestHeader& req, const ip::address& peer, bool peer_trusted,
                   const CidrSet& trusted, std::string& out) {
  ip::address client = peer;
  if (peer_trusted) {
    // Every X-Forwarded-For field, last first: the right end of the list is what our own hops
    // wrote, so nothing is cut from it however many fields a client sent before them.
    bool done = false;
    for (auto field = req.end(); field != req.begin() && !done;) {
      --field;
      if (!IEquals(field->name_string(), "x-forwarded-for")) continue;
      std::string_view value = field->value();
      while (!done) {
        auto comma = value.rfind(',');
        std::string_view hop = comma == std::string_view::npos ? value : value.substr(comma + 1);
        while (!hop.empty() && (hop.front() == ' ' || hop.front() == '\t')) hop.remove_prefix(1);
        while (!hop.empty() && (hop.back() == ' ' || hop.back() == '\t')) hop.remove_suffix(1);
        if (!hop.empty()) {
          std::optional<ip::address> a = ParseHop(hop);
          if (!a) {
            done = true;
            break;
          }
          client = *a;
          if (!trusted.Contains(*a)) done = true;
        }
        if (comma == std::string_view::npos) break;
        value = value.substr(0, comma);
      }
    }
  }
  out = Unmapped(client).to_string();
}

}  // namespace hermes::dataplane::http1
