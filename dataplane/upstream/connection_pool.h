// Keep-alive connections to upstream endpoints, one pool per worker (no locks). Idle connections
// are reused last-in first-out, so the warmest socket goes first and the surplus ages out.
#pragma once

#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>

#include "dataplane/asio.h"
#include "dataplane/config/snapshot.h"

namespace hermes::dataplane::upstream {

using Clock = std::chrono::steady_clock;

struct Connection {
  explicit Connection(const Executor& ex) : socket(ex) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (cluster) cluster->limits.connections.Release();
  }
  Socket socket;
  // Set when the connection counts against its cluster's max_connections (released on close).
  std::shared_ptr<ClusterState> cluster;
  boost::beast::flat_buffer buffer;  // lives as long as the connection: leftovers belong to it
  Clock::time_point idle_since{};
  uint64_t requests = 0;
};

using ConnectionPtr = std::unique_ptr<Connection>;

class ConnectionPool {
 public:
  // An idle connection to the endpoint, or nullptr. Connections idle for longer than the
  // cluster's pool idle timeout, and those on which the upstream sent anything (a byte, FIN or
  // reset) while idle, are closed instead of returned.
  ConnectionPtr Take(const Endpoint& endpoint, Millis idle_timeout, Clock::time_point now);

  // Keeps `conn` for reuse, unless the endpoint already has `max_idle` idle connections.
  void Put(const Endpoint& endpoint, ConnectionPtr conn, uint32_t max_idle, Millis idle_timeout,
           Clock::time_point now);

  // Closes connections idle past their timeout and forgets endpoints with none left.
  void Sweep(Clock::time_point now);

  void Clear() { buckets_.clear(); }
  size_t IdleCount() const;

 private:
  struct Bucket {
    std::shared_ptr<EndpointState> key_owner;  // keeps the map key alive
    Millis idle_timeout{0};
    std::vector<ConnectionPtr> idle;
  };
  std::unordered_map<const EndpointState*, Bucket> buckets_;
};

// Connects to one of the endpoint's resolved addresses, trying each in turn. The caller's
// deadline mechanism cancels the socket to time it out.
Task<boost::system::error_code> Connect(Connection& conn, const Endpoint& endpoint);

}  // namespace hermes::dataplane::upstream
