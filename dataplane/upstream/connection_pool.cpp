#include "dataplane/upstream/connection_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/error.hpp>

namespace hermes::dataplane::upstream {
namespace {

// An idle connection is clean while the upstream has sent nothing on it: no byte (which would be
// taken for the next request's response, another client's) and no FIN or reset. One non-blocking
// peek per reuse, as HAProxy and Envoy discard such connections.
bool Clean(Connection& conn) {
  if (conn.buffer.size() != 0 || !conn.socket.is_open()) return false;
  char byte;
  ssize_t n = ::recv(conn.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

ConnectionPtr ConnectionPool::Take(const Endpoint& endpoint, Millis idle_timeout,
                                   Clock::time_point now) {
  auto it = buckets_.find(endpoint.state.get());
  if (it == buckets_.end()) return nullptr;
  auto& idle = it->second.idle;
  while (!idle.empty()) {
    ConnectionPtr conn = std::move(idle.back());
    idle.pop_back();
    if (now - conn->idle_since < idle_timeout && Clean(*conn)) return conn;
    // Too old, or the upstream sent bytes or closed while idle: not trustworthy.
  }
  return nullptr;
}

void ConnectionPool::Put(const Endpoint& endpoint, ConnectionPtr conn, uint32_t max_idle,
                         Millis idle_timeout, Clock::time_point now) {
  auto& bucket = buckets_[endpoint.state.get()];
  if (!bucket.key_owner) bucket.key_owner = endpoint.state;
  bucket.idle_timeout = idle_timeout;
  if (bucket.idle.size() >= max_idle) return;  // conn closes as it goes out of scope
  conn->idle_since = now;
  bucket.idle.push_back(std::move(conn));
}

void ConnectionPool::Sweep(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    auto& b = it->second;
    std::erase_if(b.idle, [&](const ConnectionPtr& c) { return now - c->idle_since >= b.idle_timeout; });
    if (b.idle.empty()) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t ConnectionPool::IdleCount() const {
  size_t n = 0;
  for (const auto& [_, b] : buckets_) n += b.idle.size();
  return n;
}

Task<boost::system::error_code> Connect(Connection& conn, const Endpoint& endpoint) {
  boost::system::error_code last = asio::error::host_not_found;
  for (const auto& addr : endpoint.resolved) {
    boost::system::error_code ec;
    if (conn.socket.is_open()) conn.socket.close(ec);
    conn.socket.open(addr.protocol(), ec);
    if (ec) {
      last = ec;
      continue;
    }
    auto [cec] = co_await conn.socket.async_connect(addr, kNoThrow);
    if (!cec) {
      conn.socket.set_option(tcp::no_delay(true), ec);
      co_return boost::system::error_code{};
    }
    last = cec;
    if (cec == asio::error::operation_aborted) break;  // timed out: no time left for the others
  }
  co_return last;
}

}  // namespace hermes::dataplane::upstream
