// Output of `hermesctl proxies` and `hermesctl drain`.
#include <algorithm>
#include <map>
#include <vector>

#include "ctl/render.h"
#include "ctl/table.h"
#include "ctl/time_text.h"
#include "hermes/common/ascii.h"
#include "hermes/common/resources.h"

namespace hermes::ctl {

std::string SyncStateName(v1::SyncState state) {
  switch (state) {
    case v1::SYNCED:
      return "SYNCED";
    case v1::STALE:
      return "STALE";
    case v1::NACKED:
      return "NACKED";
    case v1::DISCONNECTED:
      return "DISCONNECTED";
    default:
      return "UNKNOWN";
  }
}

namespace {

std::string DrainWord(v1::DrainState drain) {
  switch (drain) {
    case v1::DRAINING:
      return "draining";
    case v1::DRAINED:
      return "drained";
    default:
      return "serving";
  }
}

std::string Connections(int64_t n) {
  return std::to_string(n) + (n == 1 ? " connection" : " connections");
}

// "-" while serving, "draining (12 conns)", "drained".
std::string DrainCell(const v1::Proxy& p) {
  switch (p.drain()) {
    case v1::DRAINING:
      return "draining (" + std::to_string(p.active_connections()) + " conns)";
    case v1::DRAINED:
      return "drained";
    default:
      return "-";
  }
}

// "v13*" for a proxy the rollout moved to its version (the footnote says so).
std::string TargetCell(const v1::Proxy& p) {
  return VersionCell(p.config_version()) + (p.in_rollout() ? "*" : "");
}

std::string TypeName(v1::ResourceType type) { return discovery::ResourceTypeName(type); }


// Types in the order they are sent (clusters, endpoints, routes, listeners).
std::vector<v1::TypeSync> SortedTypes(const v1::Proxy& p) {
  std::vector<v1::TypeSync> types(p.types().begin(), p.types().end());
  std::stable_sort(types.begin(), types.end(),
                   [](const auto& a, const auto& b) { return a.type() < b.type(); });
  return types;
}

// "c:synced,e:synced,r:stale,l:nacked"
std::string CompactTypes(const v1::Proxy& p) {
  std::string out;
  for (const auto& t : SortedTypes(p)) {
    if (!out.empty()) out += ',';
    out += TypeName(t.type()).substr(0, 1) + ":" + AsciiLower(SyncStateName(t.state()));
  }
  return out.empty() ? "-" : out;
}

bool HasNack(const v1::Proxy& p) {
  return p.has_last_nack() && (!p.last_nack().error().empty() || p.last_nack().at_unix_ms() != 0);
}

Json ProxyJson(const v1::Proxy& p) {
  // Labels sorted by key: protobuf maps have no stable order.
  const std::map<std::string, std::string> sorted(p.node().labels().begin(),
                                                  p.node().labels().end());
  Json labels = Json::MakeObject();
  for (const auto& [k, v] : sorted) labels.Set(k, Json(v));

  Json types = Json::MakeArray();
  for (const auto& t : SortedTypes(p)) {
    Json jt = Json::MakeObject();
    jt.Set("type", Json(TypeName(t.type())))
        .Set("state", Json(SyncStateName(t.state())))
        .Set("acked_version", Json(t.acked_version()));
    types.Push(std::move(jt));
  }

  Json nack;
  if (HasNack(p)) {
    nack = Json::MakeObject();
    nack.Set("type", Json(TypeName(p.last_nack().type())))
        .Set("version", Json(p.last_nack().version()))
        .Set("error", Json(p.last_nack().error()))
        .Set("at", TimeJson(p.last_nack().at_unix_ms()));
  }

  Json j = Json::MakeObject();
  j.Set("node", Json(p.node().id()))
      .Set("group", Json(p.node().group()))
      .Set("labels", std::move(labels))
      .Set("build_version", Json(p.node().build_version()))
      .Set("address", Json(p.address()))
      .Set("state", Json(SyncStateName(p.state())))
      .Set("config_version", Json(uint64_t{p.config_version()}))
      .Set("running_version", Json(uint64_t{p.running_version()}))
      .Set("in_rollout", Json(p.in_rollout()))
      .Set("drain", Json(DrainWord(p.drain())))
      .Set("active_connections", Json(int64_t{p.active_connections()}))
      .Set("connected_since", TimeJson(p.connected_since_unix_ms()))
      .Set("last_seen", TimeJson(p.last_seen_unix_ms()))
      .Set("types", std::move(types))
      .Set("last_nack", std::move(nack));
  return j;
}

std::string Or(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

Json ProxiesDocument(const v1::ListProxiesResponse& response) {
  Json proxies = Json::MakeArray();
  for (const auto& p : response.proxies()) proxies.Push(ProxyJson(p));
  Json j = Json::MakeObject();
  j.Set("proxies", std::move(proxies));
  return j;
}

std::string RenderProxies(const v1::ListProxiesResponse& response, OutputFormat format,
                          TimePoint now) {
  if (format != OutputFormat::kTable) return Document(ProxiesDocument(response), format);
  if (response.proxies().empty()) return "no proxies known to the control plane\n";
  Table t{{"NODE", "GROUP", "ADDRESS", "STATE", "TARGET", "RUNNING", "DRAIN", "TYPES", "LAST NACK",
           "LAST SEEN"},
          {}};
  bool in_rollout = false;
  for (const auto& p : response.proxies()) {
    std::string nack = "-";
    if (HasNack(p))
      nack = Truncate(TypeName(p.last_nack().type()) + ": " + p.last_nack().error(), 48);
    in_rollout = in_rollout || p.in_rollout();
    t.rows.push_back({Or(p.node().id()), Or(p.node().group()), Or(p.address()),
                      SyncStateName(p.state()), TargetCell(p), VersionCell(p.running_version()),
                      DrainCell(p), CompactTypes(p), nack, FormatAge(p.last_seen_unix_ms(), now)});
  }
  std::string out = RenderTable(t);
  if (in_rollout) out += "* rollout target: the rollout in progress moved this proxy to it\n";
  return out;
}

std::string DrainLine(const v1::Proxy& proxy) {
  if (proxy.drain() == v1::DRAINED) return "drained " + proxy.node().id() + "\n";
  return "draining " + proxy.node().id() + ": " + Connections(proxy.active_connections()) +
         " open\n";
}

Json DrainDocument(const v1::Proxy& proxy) {
  Json j = Json::MakeObject();
  j.Set("proxy", ProxyJson(proxy));
  return j;
}

std::string RenderDrain(const v1::Proxy& proxy, OutputFormat format) {
  if (format != OutputFormat::kTable) return Document(DrainDocument(proxy), format);
  return DrainLine(proxy);
}

}  // namespace hermes::ctl
