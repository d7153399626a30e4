#include "dataplane/proxy/tunnel.h"

#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "dataplane/server/worker.h"
#include "dataplane/write_all.h"

namespace hermes::dataplane::proxy {
namespace {

constexpr size_t kPumpBuffer = 16384;

Task<void> Pump(Socket& from, Socket& to, SessionBase& timing, const Worker& worker,
                std::chrono::milliseconds idle_timeout) {
  std::vector<char> buf(kPumpBuffer);
  for (;;) {
    timing.SetDeadline(worker.coarse_now(), idle_timeout);
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) break;
    auto [wec, wn] = co_await WriteAll(to, asio::buffer(buf.data(), n));
    if (wec) break;
  }
  boost::system::error_code ec;
  to.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

Task<void> Splice(Socket& client, Socket& upstream, SessionBase& timing, const Worker& worker,
                  std::chrono::milliseconds idle_timeout) {
  using namespace asio::experimental::awaitable_operators;
  co_await (Pump(client, upstream, timing, worker, idle_timeout) ||
            Pump(upstream, client, timing, worker, idle_timeout));
}

}  // namespace hermes::dataplane::proxy
