// Output of `hermesctl circuits`: each endpoint's circuit breaker across the proxies.
#include "ctl/render.h"
#include "ctl/table.h"

namespace hermes::ctl {
namespace {

std::string StateName(v1::CircuitState state) {
  switch (state) {
    case v1::CLOSED:
      return "CLOSED";
    case v1::OPEN:
      return "OPEN";
    case v1::HALF_OPEN:
      return "HALF_OPEN";
    default:
      return "UNKNOWN";
  }
}

// The worst state over the proxies: a breaker open on one proxy already sheds its traffic.
std::string WorstState(const v1::EndpointCircuit& e) {
  if (e.open() > 0) return "OPEN";
  if (e.half_open() > 0) return "HALF_OPEN";
  if (e.proxies() == 0) return "UNKNOWN";
  return "CLOSED";
}

// "OPEN on 2/5 proxies", "OPEN on 2/5, HALF_OPEN on 1/5 proxies", "CLOSED on 5/5 proxies".
std::string StateText(const v1::EndpointCircuit& e) {
  if (e.proxies() == 0) return "no proxy reports it";
  const std::string of = "/" + std::to_string(e.proxies());
  std::string text;
  const auto add = [&](std::string_view name, uint32_t count) {
    if (count == 0) return;
    if (!text.empty()) text += ", ";
    text += std::string(name) + " on " + std::to_string(count) + of;
  };
  add("OPEN", e.open());
  add("HALF_OPEN", e.half_open());
  if (text.empty()) add("CLOSED", e.closed());
  if (text.empty()) return "no proxy reports a state";
  return text + " proxies";
}

// "edge-1 (OPEN), edge-4 (HALF_OPEN)"
std::string NotClosedText(const v1::EndpointCircuit& e) {
  std::string text;
  for (const auto& p : e.by_proxy()) {
    if (!text.empty()) text += ", ";
    text += (p.proxy().empty() ? "?" : p.proxy()) + " (" + StateName(p.state()) + ")";
  }
  return text.empty() ? "-" : Truncate(text, 64);
}

}  // namespace

std::string RenderCircuits(const v1::ListCircuitsResponse& response, const CircuitsArgs& args,
                           OutputFormat format) {
  if (format != OutputFormat::kTable) {
    Json endpoints = Json::MakeArray();
    for (const auto& e : response.endpoints()) {
      Json not_closed = Json::MakeArray();
      for (const auto& p : e.by_proxy()) {
        Json jp = Json::MakeObject();
        jp.Set("proxy", Json(p.proxy())).Set("state", Json(StateName(p.state())));
        not_closed.Push(std::move(jp));
      }
      Json je = Json::MakeObject();
      je.Set("cluster", Json(e.cluster()))
          .Set("address", Json(e.address()))
          .Set("state", Json(WorstState(e)))
          .Set("proxies", Json(uint64_t{e.proxies()}))
          .Set("open", Json(uint64_t{e.open()}))
          .Set("half_open", Json(uint64_t{e.half_open()}))
          .Set("closed", Json(uint64_t{e.closed()}))
          .Set("not_closed", std::move(not_closed));
      endpoints.Push(std::move(je));
    }
    Json j = Json::MakeObject();
    j.Set("endpoints", std::move(endpoints));
    return Document(j, format);
  }

  if (response.endpoints().empty()) {
    return "no endpoints reported by the proxies" +
           (args.cluster.empty() ? "" : " in cluster " + args.cluster) + "\n";
  }
  Table t{{"CLUSTER", "ADDRESS", "STATE", "NOT CLOSED ON"}, {}};
  for (const auto& e : response.endpoints()) {
    t.rows.push_back({Truncate(e.cluster(), 32),
                      e.address().empty() ? "-" : Truncate(e.address(), 64), StateText(e),
                      NotClosedText(e)});
  }
  return RenderTable(t);
}

}  // namespace hermes::ctl
