#include "controlplane/web/http_listener.h"

#include "hermes/common/address.h"
#include "hermes/common/prometheus.h"

namespace hermes::controlplane {
namespace {

HttpServerOptions Named(HttpServerOptions options) {
  options.server_name = "hermes-controlplane";
  return options;
}

}  // namespace

HttpListener::HttpListener(MetricsFn metrics, HttpServerOptions options)
    : metrics_(std::move(metrics)),
      http_(Named(std::move(options)),
            [this](const HttpRequestView& request) { return Answer(request); }) {}

hermes::Result<uint16_t> HttpListener::Start(const std::string& address) {
  std::optional<HostPort> hp = ParseHostPort(address);
  if (!hp) return hermes::Failure("--http-listen \"" + address + "\" is not host:port");
  hermes::Result<uint16_t> started = http_.Start(*hp);
  if (!started) return hermes::Failure("--http-listen " + address + ": " + started.error());
  return started;
}

HttpResponse HttpListener::Answer(const HttpRequestView& request) const {
  if (request.path == "/healthz") return {200, "text/plain", "ok\n"};
  if (request.path == "/metrics") {
    PrometheusWriter w;
    w.Family(
        "hermes_controlplane_http_refused_connections_total", "counter",
        "HTTP connections closed at accept because the listener's connection cap was reached.");
    w.Sample("hermes_controlplane_http_refused_connections_total", {}, http_.refused_connections());
    return {200, "text/plain; version=0.0.4", metrics_() + w.text()};
  }
  return {404, "text/plain", "not found (try /healthz or /metrics)\n"};
}

}  // namespace hermes::controlplane
