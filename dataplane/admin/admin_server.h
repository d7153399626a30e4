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
// Limits (hermes/common/http_server.h): a request head and body must arrive within
// AdminTimeouts::read (408 when part of one came), a response be written within ::write, a
// kept-alive connection with no request closes after ::idle; heads over 16 KiB are 431, bodies
// over 64 KiB 413. Over admin.max_connections a new connection is closed at once, not left in the
// backlog as the proxy's listeners do, and counted in /metrics
// (hermes_admin_refused_connections_total). Runs on a thread of its own, never on a worker, so
// neither traffic nor the control thread's work delays it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hermes/common/http_server.h"
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
  AdminServer(Server& server, AdminTimeouts timeouts);
  // Binds and starts serving; returns an error text naming the address on failure.
  std::string Listen(const std::string& address);
  // Closes the listener and every admin connection; returns once they are closed.
  void Close() { http_.Stop(); }
  uint16_t port() const { return http_.port(); }

 private:
  HttpResponse Answer(const HttpRequestView& request);

  Server& server_;
  HttpServer http_;
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
