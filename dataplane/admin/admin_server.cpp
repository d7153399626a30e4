#include "dataplane/admin/admin_server.h"

#include "dataplane/server/server.h"
#include "hermes/common/address.h"
#include "hermes/common/prometheus.h"

namespace hermes::dataplane {
namespace {

constexpr uint32_t kMaxHeaderBytes = 16384;
constexpr uint64_t kMaxBodyBytes = 65536;

bool CrossSite(const HttpRequestView& request) {
  if (request.HasHeader("Origin")) return true;
  if (!request.HasHeader("Sec-Fetch-Site")) return false;
  const std::string_view site = request.Header("Sec-Fetch-Site");
  return site != "same-origin" && site != "none";
}

HttpServerOptions AdminHttpOptions(Server& server, const AdminTimeouts& timeouts) {
  HttpServerOptions options;
  options.server_name = "hermes";
  options.read = timeouts.read;
  options.write = timeouts.write;
  options.idle = timeouts.idle;
  options.max_connections = [&server]() -> size_t {
    SnapshotPtr snap = server.snapshot();
    return snap ? snap->config.admin().max_connections() : 1;
  };
  options.max_head_bytes = kMaxHeaderBytes;
  options.max_body_bytes = kMaxBodyBytes;
  return options;
}

}  // namespace

AdminServer::AdminServer(Server& server, AdminTimeouts timeouts)
    : server_(server),
      http_(AdminHttpOptions(server, timeouts),
            [this](const HttpRequestView& request) { return Answer(request); }) {}

std::string AdminServer::Listen(const std::string& address) {
  auto hp = ParseHostPort(address);
  if (!hp) return "admin.address: invalid address \"" + address + "\"";
  Result<uint16_t> started = http_.Start(*hp);
  if (!started) return "admin.address: " + started.error();
  return {};
}

HttpResponse AdminServer::Answer(const HttpRequestView& request) {
  AdminResponse r =
      RenderAdmin(server_, AdminRequest{request.method, request.path,
                                        request.Header("Authorization"), CrossSite(request)});
  if (request.path == "/metrics" && r.status == 200) {
    // The admin listener's own counters: the rest of /metrics comes from the server.
    PrometheusWriter w;
    w.Family("hermes_admin_active_connections", "gauge", "Open admin API connections.");
    w.Sample("hermes_admin_active_connections", {},
             static_cast<uint64_t>(http_.active_connections()));
    w.Family("hermes_admin_refused_connections_total", "counter",
             "Admin API connections closed at accept because admin.max_connections were open.");
    w.Sample("hermes_admin_refused_connections_total", {}, http_.refused_connections());
    r.body += w.text();
  }
  return HttpResponse{r.status, std::move(r.content_type), std::move(r.body), std::move(r.headers)};
}

}  // namespace hermes::dataplane
