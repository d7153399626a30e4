// The proxy's local admin listener (admin.address): liveness and readiness, Prometheus metrics,
// the running config, reload, the drain state (GET /drain: {"state":"serving|draining|drained",
// "active_connections":N}; /ready is 503 "draining" once drained by hermesctl drain), and the
// original Hermes admin API (/health, /backends, /stats, /circuits) with its JSON shapes. Runs on
// the server's control thread, never on a worker.
#pragma once

#include <string>

#include "dataplane/asio.h"

namespace hermes::dataplane {

class Server;

class AdminServer {
 public:
  AdminServer(asio::io_context& io, Server& server);
  // Binds and starts accepting; returns an error text naming the address on failure.
  std::string Listen(const std::string& address);
  void Close();
  uint16_t port() const { return port_; }

 private:
  Task<void> AcceptLoop();
  Task<void> Serve(Socket socket);

  asio::io_context& io_;
  Server& server_;
  Acceptor acceptor_;
  uint16_t port_ = 0;
};

// Response bodies, exposed for tests. Each returns {status, content type, body}.
struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};
AdminResponse RenderAdmin(Server& server, std::string_view method, std::string_view path);

}  // namespace hermes::dataplane
