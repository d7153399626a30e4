#include "dataplane/config/snapshot.h"

#include <algorithm>
#include <cctype>

#include "dataplane/lb/load_balancer.h"
#include "hermes/common/ascii.h"

namespace hermes::dataplane {

Cluster::Cluster() = default;
Cluster::~Cluster() = default;

bool Route::AllowsUpgrade(std::string_view protocol) const {
  for (const auto& t : upgrade_types) {
    if (AsciiIEquals(t, protocol)) return true;
  }
  return false;
}

bool Route::Matches(std::string_view req_host, std::string_view req_path) const {
  switch (host_match) {
    case HostMatch::kAny:
      break;
    case HostMatch::kExact:
      if (req_host != host) return false;
      break;
    case HostMatch::kSuffix:
      // "*.example.com" matches "a.example.com", not "example.com".
      if (req_host.size() <= host.size() || !req_host.ends_with(host)) return false;
      break;
  }
  if (!path.empty()) return req_path == path;
  if (prefix.empty() || prefix == "/") return true;
  if (!req_path.starts_with(prefix)) return false;
  // Segment boundary: "/api" matches "/api" and "/api/x", not "/apix".
  return req_path.size() == prefix.size() || prefix.back() == '/' || req_path[prefix.size()] == '/';
}

const Route* Snapshot::Match(std::string_view host, std::string_view path) const {
  for (const auto& r : routes) {
    if (r.Matches(host, path)) return &r;
  }
  return nullptr;
}

const ListenerSettings* Snapshot::FindListener(std::string_view name) const {
  for (const auto& l : listeners) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

Snapshot::~Snapshot() {
  // Borrowed elements are taken out without being deleted; their owners live on.
  if (borrows_clusters)
    config.mutable_clusters()->UnsafeArenaExtractSubrange(0, config.clusters_size(), nullptr);
  if (route_source)
    config.mutable_routes()->UnsafeArenaExtractSubrange(0, config.routes_size(), nullptr);
}

std::string_view NormalizeHost(std::string_view host, std::string& scratch) {
  if (!host.empty() && host.front() == '[') {  // "[::1]:8080"
    auto end = host.find(']');
    host = end == std::string_view::npos ? host : host.substr(0, end + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  bool lower = std::none_of(host.begin(), host.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (lower) return host;
  scratch.assign(host);
  for (auto& c : scratch) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scratch;
}

}  // namespace hermes::dataplane
