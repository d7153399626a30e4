#include "dataplane/config/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace hermes::dataplane {
namespace {

std::vector<tcp::endpoint> Lookup(const HostPort& hp) {
  std::vector<tcp::endpoint> out;
  boost::system::error_code ec;
  if (auto ip = asio::ip::make_address(hp.host, ec); !ec) {
    out.emplace_back(ip, hp.port);
    return out;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  if (::getaddrinfo(hp.host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (auto* ai = res; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    tcp::endpoint ep;
    std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
    ep.port(hp.port);
    if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  }
  ::freeaddrinfo(res);
  return out;
}

}  // namespace

bool ResolveEndpoints(const v1::Config& config, const ResolvedHosts& previous, ResolvedHosts& out) {
  out.entries.clear();
  bool changed = false;
  for (const auto& c : config.clusters()) {
    for (const auto& e : c.endpoints()) {
      if (out.Find(e.address())) continue;
      auto hp = ParseHostPort(e.address());
      std::vector<tcp::endpoint> addrs = hp ? Lookup(*hp) : std::vector<tcp::endpoint>{};
      const auto* before = previous.Find(e.address());
      if (addrs.empty() && before) addrs = *before;  // a failed lookup keeps the last answer
      if (!before || *before != addrs) changed = true;
      out.entries.emplace_back(e.address(), std::move(addrs));
    }
  }
  if (out.entries.size() != previous.entries.size()) changed = true;
  return changed;
}

}  // namespace hermes::dataplane
