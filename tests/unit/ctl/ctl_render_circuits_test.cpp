// What `hermesctl circuits` prints, as a table and as -o json.
#include <gtest/gtest.h>

#include "ctl/render.h"
#include "golden.h"

namespace hermes::ctl {
namespace {

v1::EndpointCircuit Circuit(std::string cluster, std::string address, uint32_t proxies,
                            uint32_t open, uint32_t half_open, uint32_t closed) {
  v1::EndpointCircuit e;
  e.set_cluster(std::move(cluster));
  e.set_address(std::move(address));
  e.set_proxies(proxies);
  e.set_open(open);
  e.set_half_open(half_open);
  e.set_closed(closed);
  return e;
}

void AddNotClosed(v1::EndpointCircuit& e, std::string proxy, v1::CircuitState state) {
  v1::ProxyCircuit* p = e.add_by_proxy();
  p->set_proxy(std::move(proxy));
  p->set_state(state);
}

// Closed everywhere; open on two proxies and half-open on a third; reported by no proxy.
v1::ListCircuitsResponse Circuits() {
  v1::ListCircuitsResponse r;
  *r.add_endpoints() = Circuit("api", "10.0.1.5:8080", 5, 0, 0, 5);
  v1::EndpointCircuit tripped = Circuit("api", "10.0.1.6:8080", 5, 2, 1, 2);
  AddNotClosed(tripped, "edge-1", v1::OPEN);
  AddNotClosed(tripped, "edge-4", v1::OPEN);
  AddNotClosed(tripped, "edge-2", v1::HALF_OPEN);
  *r.add_endpoints() = tripped;
  *r.add_endpoints() = Circuit("payments", "10.0.3.2:8443", 0, 0, 0, 0);
  return r;
}

TEST(RenderCircuitsTest, TableMatchesGolden) {
  EXPECT_EQ(RenderCircuits(Circuits(), CircuitsArgs{}, OutputFormat::kTable),
            Golden("circuits.txt"));
}

TEST(RenderCircuitsTest, JsonMatchesGolden) {
  EXPECT_EQ(RenderCircuits(Circuits(), CircuitsArgs{}, OutputFormat::kJson),
            Golden("circuits.json"));
}

TEST(RenderCircuitsTest, HalfOpenOnlyIsTheWorstState) {
  v1::ListCircuitsResponse r;
  v1::EndpointCircuit e = Circuit("api", "10.0.1.6:8080", 3, 0, 1, 2);
  AddNotClosed(e, "edge-2", v1::HALF_OPEN);
  *r.add_endpoints() = e;
  EXPECT_EQ(RenderCircuits(r, {}, OutputFormat::kTable),
            "CLUSTER   ADDRESS         STATE                      NOT CLOSED ON\n"
            "api       10.0.1.6:8080   HALF_OPEN on 1/3 proxies   edge-2 (HALF_OPEN)\n");
}

TEST(RenderCircuitsTest, LongProxyListIsCut) {
  v1::ListCircuitsResponse r;
  v1::EndpointCircuit e = Circuit("api", "10.0.1.6:8080", 20, 20, 0, 0);
  for (int i = 1; i <= 20; ++i) AddNotClosed(e, "edge-" + std::to_string(i), v1::OPEN);
  *r.add_endpoints() = e;
  const std::string out = RenderCircuits(r, {}, OutputFormat::kTable);
  EXPECT_NE(out.find("OPEN on 20/20 proxies   edge-1 (OPEN), edge-2 (OPEN), edge-3 (OPEN), "
                     "edge-4 (OPEN), e...\n"),
            std::string::npos)
      << out;
}

TEST(RenderCircuitsTest, NoEndpointsSaysSo) {
  EXPECT_EQ(
      RenderCircuits(v1::ListCircuitsResponse(), CircuitsArgs{"payments"}, OutputFormat::kTable),
      "no endpoints reported by the proxies in cluster payments\n");
}

}  // namespace
}  // namespace hermes::ctl
