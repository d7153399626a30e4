#include "dataplane/config/route_compile.h"

#include <string_view>
#include <unordered_map>

#include "hermes/common/ascii.h"
#include "hermes/common/duration.h"

namespace hermes::dataplane {
namespace {

Millis ToMillis(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<Millis>(ToChrono(d));
}

std::vector<HeaderToAdd> HeadersToAdd(const google::protobuf::RepeatedPtrField<v1::Header>& in) {
  std::vector<HeaderToAdd> out;
  for (const auto& h : in) out.push_back({h.name(), h.value(), h.append()});
  return out;
}

std::vector<std::string> LowerAll(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) out.push_back(AsciiLower(s));
  return out;
}

// The listener's max_request_body caps buffer_limit further, per request.
resilience::RetrySettings CompileRetry(const v1::Route& r) {
  resilience::RetrySettings retry;
  if (!r.has_retry_policy()) {
    // The original Hermes promise: a connection failure is retried on other endpoints.
    retry.implicit = true;
    retry.retry_on = resilience::kRetryConnectFailure;
    retry.num_retries = 2;
    retry.buffer_limit = 0;
    return retry;
  }
  const auto& p = r.retry_policy();
  retry.retry_on = 0;
  for (const auto& on : p.retry_on()) retry.retry_on |= resilience::ParseRetryOn(on);
  retry.num_retries = p.num_retries();
  retry.per_try_timeout = ToMillis(p.per_try_timeout());
  for (uint32_t code : p.retriable_status_codes())
    retry.retriable_status_codes.push_back(static_cast<uint16_t>(code));
  retry.backoff_base = ToMillis(p.backoff_base_interval());
  retry.backoff_max = ToMillis(p.backoff_max_interval());
  retry.buffer_limit = p.retry_buffer_limit();
  return retry;
}

}  // namespace

Route CompileRoute(const v1::Route& r, StatsStore& stats) {
  Route route;
  route.name = r.name();
  const std::string& host = r.match().host();
  if (host.empty()) {
    route.host_match = Route::HostMatch::kAny;
  } else if (host.starts_with("*.")) {
    route.host_match = Route::HostMatch::kSuffix;
    route.host = AsciiLower(std::string_view(host).substr(1));
  } else {
    route.host_match = Route::HostMatch::kExact;
    route.host = AsciiLower(host);
  }
  route.prefix = r.match().prefix();
  route.path = r.match().path();
  route.cluster_name = r.cluster();
  route.has_prefix_rewrite = !r.prefix_rewrite().empty();
  route.prefix_rewrite = r.prefix_rewrite();
  route.host_rewrite = r.host_rewrite();
  route.request_headers_to_add = HeadersToAdd(r.request_headers_to_add());
  route.request_headers_to_remove = LowerAll(r.request_headers_to_remove());
  route.response_headers_to_add = HeadersToAdd(r.response_headers_to_add());
  route.response_headers_to_remove = LowerAll(r.response_headers_to_remove());
  route.timeout = ToMillis(r.timeout());
  route.retry = CompileRetry(r);
  for (const auto& u : r.upgrade_configs()) {
    std::string type = AsciiLower(u.upgrade_type());
    if (u.enabled() && type != "h2c") route.upgrade_types.push_back(std::move(type));
  }
  route.stats = stats.Route(route.name);
  return route;
}

std::vector<Route> LinkRoutes(const std::vector<Route>& routes,
                              const std::vector<std::shared_ptr<Cluster>>& clusters) {
  std::unordered_map<std::string_view, const Cluster*> by_name;
  by_name.reserve(clusters.size());
  for (const auto& c : clusters) by_name[c->name] = c.get();  // the last of a name, as before
  std::vector<Route> linked = routes;
  for (auto& route : linked) {
    auto it = by_name.find(route.cluster_name);
    route.cluster = it == by_name.end() ? nullptr : it->second;
  }
  return linked;
}

}  // namespace hermes::dataplane
