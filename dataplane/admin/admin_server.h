// The proxy's local admin listener (admin.address, default 127.0.0.1:8081; ":8081" written out
// means every interface): liveness and readiness, Prometheus metrics, the running config (header
// values named like credentials and sticky_secret shown as "[redacted]"), reload, the drain state
// (GET /drain: {"state":"serving|draining|drained", "active_connections":N}; /ready is 503
// "draining" once drained by hermesctl drain), and the original Hermes admin API (/health,
// /backends, /stats, /circuits) with its JSON shapes.
//
// Access: the read-only views are open to anyone who can connect. With admin.token_file set,
// /config and every mutation need "Authorization: Bearer <token>" (401 otherwise). Mutations
// (POST /reload) are POST only (405 with Allow otherwise) and refused to browsers' cross-site
// requests (403: an Origin header, or Sec-Fetch-Site other than same-origin or none).
//
// Limits: a request head and body must arrive within AdminTimeouts::read, a response be written
// within ::write, a kept-alive connection with no request closes after ::idle. Over max_connections
// a new connection is closed at once, not left in the backlog as the proxy's listeners do: a probe
// or an operator's curl learns at once instead of hanging unseen behind whoever holds the slots,
// and retries into a slot the deadlines free. Runs on the control thread, never on a worker.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/asio.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

class Server;

struct AdminTimeouts {
  std::chrono::milliseconds read{10000};   // from accept, or from a request's first byte
  std::chrono::milliseconds write{10000};  // one response
  std::chrono::milliseconds idle{60000};   // between requests on a kept-alive connection
};

class AdminServer {
 public:
  AdminServer(asio::io_context& io, Server& server, AdminTimeouts timeouts);
  // Binds and starts accepting; returns an error text naming the address on failure.
  std::string Listen(const std::string& address);
  void Close();
  uint16_t port() const { return port_; }

 private:
  Task<void> AcceptLoop();
  Task<void> Serve(Socket socket);

  asio::io_context& io_;
  Server& server_;
  AdminTimeouts timeouts_;
  Acceptor acceptor_;
  uint16_t port_ = 0;
  size_t connections_ = 0;  // being served; only the control thread touches it
};

// One admin request, as much of it as the answer depends on.
struct AdminRequest {
  std::string_view method;
  std::string_view path;           // the target without its query
  std::string_view authorization;  // the Authorization header's value, "" if none
  // A browser's cross-site request: an Origin header, or Sec-Fetch-Site other than
  // "same-origin" or "none". curl and hermesctl send neither.
  bool cross_site = false;
};

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // Allow, WWW-Authenticate
};

// The answer to `request` (access checked with the server's AdminToken()), with its side effects
// (POST /reload reloads). Exposed for tests.
AdminResponse RenderAdmin(Server& server, const AdminRequest& request);

// {"error": message} with `status`: every refusal and error of the admin API.
AdminResponse AdminError(unsigned status, std::string_view message);

// Why `request` may not have what it asks for (admin_access.cpp) (405, 403, 401), or nullopt when it may; an unknown
// path is nullopt too (RenderAdmin answers 404).
std::optional<AdminResponse> RefuseAdminRequest(const AdminRequest& request, std::string_view token);

// What /config shows (config_redaction.cpp): `config` with the values of headers named like credentials and the sticky
// secret replaced by "[redacted]".
hermes::v1::Config RedactedConfig(const hermes::v1::Config& config);

}  // namespace hermes::dataplane
