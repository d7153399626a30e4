// Opening listening sockets for the workers: one SO_REUSEPORT socket per worker on the same
// address, so the kernel spreads connections without a shared accept lock.
#pragma once

#include <string>
#include <vector>

#include "dataplane/asio.h"
#include "hermes/common/address.h"

namespace hermes::dataplane {

struct ListenerSockets {
  tcp protocol = tcp::v4();
  uint16_t port = 0;      // the bound port (an ephemeral one when the config said 0)
  std::vector<int> fds;   // one per worker; ownership passes to the worker that assigns it
};

// Binds `count` sockets to `address`. ":port" binds every interface (IPv6 dual stack when the
// machine has IPv6). On failure returns an error text naming the address and the cause, and
// closes whatever it opened.
std::string OpenListenerSockets(const HostPort& address, unsigned count, int backlog,
                                ListenerSockets& out);

void CloseSockets(std::vector<int>& fds);

}  // namespace hermes::dataplane
