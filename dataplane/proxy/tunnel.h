// After 101 Switching Protocols (a WebSocket upgrade) both connections carry another protocol:
// bytes are copied both ways until either side closes or stays silent past the idle timeout.
#pragma once

#include <chrono>

#include "dataplane/asio.h"

namespace hermes::dataplane {
class SessionBase;
class Worker;
}  // namespace hermes::dataplane

namespace hermes::dataplane::proxy {

// Copies client -> upstream and upstream -> client until one direction ends; the other is then
// cancelled (awaitable_operators' ||). Each read re-arms `timing`'s deadline to `idle_timeout`
// from now, so a tunnel silent both ways is closed by the worker's tick. A side that ends has
// its peer's write side shut down.
Task<void> Splice(Socket& client, Socket& upstream, SessionBase& timing, const Worker& worker,
                  std::chrono::milliseconds idle_timeout);

}  // namespace hermes::dataplane::proxy
