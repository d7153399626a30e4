// The daemons' admin HTTP server (the proxy's admin API, the control plane's --http-listen): a
// small HTTP/1.1 server on its own thread, for operators, probes and scrapers, not traffic.
//
// Every connection has deadlines: a request (head and body) must arrive within `read` of the
// accept or of its first byte, else it is answered 408 (when some of it came) and closed; a
// response must be written within `write`; a kept-alive connection that sends nothing for `idle`
// is closed. A head over max_head_bytes is answered 431, a body over max_body_bytes 413, a
// malformed request 400, each closing the connection. Over max_connections a new connection is
// closed at once (counted in refused_connections()) rather than left in the backlog: a probe or an
// operator's curl learns at once instead of hanging unseen behind whoever holds the slots. The
// accept loop backs off while the process is out of file descriptors.
#pragma once

#include <atomic>
#include <boost/beast/http/fields.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "hermes/common/address.h"
#include "hermes/common/result.h"

namespace hermes {

// One request as a handler sees it; valid during the handler's call only.
struct HttpRequestView {
  std::string_view method;  // as sent: "GET", "POST", ...
  std::string_view target;  // the request target, query included
  std::string_view path;    // the target without its query
  std::string_view body;
  const boost::beast::http::fields& fields;

  // The value of the first field named `name` (any case), "" when there is none.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // Allow, WWW-Authenticate, ...
};

// Runs on the server's thread, one request at a time: a slow handler delays the other
// connections' requests, never their deadlines.
using HttpHandler = std::function<HttpResponse(const HttpRequestView&)>;

struct HttpServerOptions {
  std::string server_name = "hermes";      // the Server header
  std::chrono::milliseconds read{10000};   // from accept, or from a request's first byte
  std::chrono::milliseconds write{10000};  // one response
  std::chrono::milliseconds idle{60000};   // between requests on a kept-alive connection
  // Asked at every accept, so that a config change applies to the next connection.
  std::function<size_t()> max_connections = [] { return size_t{64}; };
  uint32_t max_head_bytes = 16384;
  uint64_t max_body_bytes = 65536;
  int backlog = 128;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `address` (":port" is every interface: IPv6 dual stack when the machine has it, else
  // IPv4) and starts serving on a thread of its own. Returns the bound port (the one picked for
  // port 0), or "cannot listen on HOST:PORT: REASON" / "cannot resolve ...". Call once.
  Result<uint16_t> Start(const HostPort& address);

  // Closes the listener and every connection (idle, half-sent or being answered: a handler
  // under way finishes first) and joins the thread. Prompt whatever the clients do. Idempotent;
  // never from inside a handler.
  void Stop();

  uint16_t port() const { return port_; }
  size_t active_connections() const { return active_.load(); }
  // Connections closed at accept because max_connections were open.
  uint64_t refused_connections() const { return refused_.load(); }

 private:
  class Connection;
  struct Loop;

  HttpServerOptions options_;
  HttpHandler handler_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace hermes
