#include "dataplane/server/listener_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hermes::dataplane {
namespace {

int OpenOne(const tcp::endpoint& ep, int backlog, std::string& error) {
  int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  int one = 1, zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (ep.protocol() == tcp::v6()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0 || ::listen(fd, backlog) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void CloseSockets(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

std::string OpenListenerSockets(const HostPort& address, unsigned count, int backlog,
                                ListenerSockets& out) {
  std::vector<tcp::endpoint> candidates;
  boost::system::error_code ec;
  if (address.host.empty()) {
    candidates = {tcp::endpoint(tcp::v6(), address.port), tcp::endpoint(tcp::v4(), address.port)};
  } else if (auto ip = asio::ip::make_address(address.host, ec); !ec) {
    candidates = {tcp::endpoint(ip, address.port)};
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(address.host.c_str(), nullptr, &hints, &res); rc != 0)
      return "cannot resolve listener host \"" + address.host + "\": " + gai_strerror(rc);
    for (auto* ai = res; ai; ai = ai->ai_next) {
      tcp::endpoint ep;
      std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
      ep.port(address.port);
      candidates.push_back(ep);
    }
    ::freeaddrinfo(res);
  }

  std::string error;
  for (const auto& candidate : candidates) {
    out.fds.clear();
    tcp::endpoint ep = candidate;
    for (unsigned i = 0; i < count; ++i) {
      int fd = OpenOne(ep, backlog, error);
      if (fd < 0) break;
      out.fds.push_back(fd);
      if (i == 0 && ep.port() == 0) {
        // Port 0: the first socket picks the port, the others join it.
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        ep.port(ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
      }
    }
    if (out.fds.size() == count) {
      out.protocol = ep.protocol();
      out.port = ep.port();
      return {};
    }
    CloseSockets(out.fds);
  }
  std::string shown = address.host.empty() ? "*" : address.host;
  return "cannot listen on " + shown + ":" + std::to_string(address.port) + ": " + error;
}

}  // namespace hermes::dataplane
