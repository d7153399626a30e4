// The control plane's HTTP listener (--http-listen): /healthz and /metrics (Prometheus text) for
// the fleet as the control plane sees it, on the daemons' admin HTTP server
// (hermes/common/http_server.h: deadlines, a connection cap, its own thread).
#pragma once

#include <functional>
#include <string>

#include "hermes/common/http_server.h"
#include "hermes/common/result.h"

namespace hermes::controlplane {

class HttpListener {
 public:
  // Renders the body of /metrics.
  using MetricsFn = std::function<std::string()>;

  // `options` for tests (short deadlines, a small cap); the daemon keeps the defaults.
  explicit HttpListener(MetricsFn metrics, HttpServerOptions options = {});

  // Binds `address` ("host:port", ":port"); returns the bound port or what went wrong, naming
  // --http-listen.
  hermes::Result<uint16_t> Start(const std::string& address);
  // Closes the listener and every connection, promptly whatever the clients do.
  void Stop() { http_.Stop(); }
  uint16_t port() const { return http_.port(); }

 private:
  HttpResponse Answer(const HttpRequestView& request) const;

  MetricsFn metrics_;
  HttpServer http_;
};

}  // namespace hermes::controlplane
