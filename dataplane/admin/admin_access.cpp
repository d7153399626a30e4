// Who may call which admin endpoint: the views are open, /config needs the token, a mutation
// needs POST, the token and a request that is not a browser's cross-site one.
#include <algorithm>
#include <array>

#include "dataplane/admin/admin_server.h"
#include "hermes/common/bearer_token.h"
#include "hermes/common/json.h"

namespace hermes::dataplane {
namespace {

enum class Access {
  kOpen,      // read-only, shows nothing secret
  kToken,     // read-only, shows the config
  kMutation,  // changes the proxy
};

struct Endpoint {
  std::string_view path;
  Access access;
};

constexpr std::array kEndpoints{
    Endpoint{"/healthz", Access::kOpen},  Endpoint{"/ready", Access::kOpen},
    Endpoint{"/drain", Access::kOpen},    Endpoint{"/metrics", Access::kOpen},
    Endpoint{"/health", Access::kOpen},   Endpoint{"/backends", Access::kOpen},
    Endpoint{"/stats", Access::kOpen},    Endpoint{"/circuits", Access::kOpen},
    Endpoint{"/config", Access::kToken},  Endpoint{"/reload", Access::kMutation},
};

}  // namespace

std::optional<AdminResponse> RefuseAdminRequest(const AdminRequest& request, std::string_view token) {
  const auto* endpoint = std::find_if(kEndpoints.begin(), kEndpoints.end(),
                                      [&](const Endpoint& e) { return e.path == request.path; });
  if (endpoint == kEndpoints.end()) return std::nullopt;
  if (endpoint->access == Access::kMutation) {
    if (request.method != "POST") {
      AdminResponse r = AdminError(405, "use POST " + std::string(request.path));
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    // A browser sends these on every cross-site POST; a form on any web page could otherwise
    // reload the proxy of whoever views it (CSRF).
    if (request.cross_site) return AdminError(403, "cross-site requests may not change the proxy");
  } else if (request.method != "GET" && request.method != "HEAD") {
    AdminResponse r = AdminError(405, std::string(request.path) + " is read-only: use GET");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (endpoint->access != Access::kOpen && !token.empty() &&
      !BearerTokenMatches(request.authorization, token)) {
    AdminResponse r = AdminError(401, "missing or wrong bearer token (admin.token_file)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  return std::nullopt;
}

}  // namespace hermes::dataplane
