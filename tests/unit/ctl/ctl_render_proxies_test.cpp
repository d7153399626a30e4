// What `hermesctl proxies` prints, as a table and as -o json.
#include <gtest/gtest.h>

#include "ctl/render.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z
const system_clock::time_point kNow{milliseconds(kMay1Noon + 5'000)};

v1::Proxy Synced(std::string id) {
  v1::Proxy p;
  p.mutable_node()->set_id(std::move(id));
  p.mutable_node()->set_group("edge");
  p.mutable_node()->set_build_version("0.1.0");
  p.set_address("10.0.0.7:51234");
  p.set_connected_since_unix_ms(kMay1Noon - 60'000);
  p.set_last_seen_unix_ms(kMay1Noon);
  p.set_state(v1::SYNCED);
  p.set_config_version(7);
  // Sent out of order: the output lists them in the order the control plane sends them.
  for (auto type : {v1::ROUTES, v1::CLUSTERS, v1::LISTENERS, v1::ENDPOINTS}) {
    auto* t = p.add_types();
    t->set_type(type);
    t->set_state(v1::SYNCED);
    t->set_acked_version("abc");
  }
  return p;
}

v1::Proxy Nacked(std::string id) {
  v1::Proxy p = Synced(std::move(id));
  p.set_state(v1::NACKED);
  p.mutable_types(0)->set_state(v1::NACKED);
  p.mutable_last_nack()->set_type(v1::ROUTES);
  p.mutable_last_nack()->set_version("def");
  p.mutable_last_nack()->set_error("routes[3].cluster: unknown cluster \"payments-v2\" in route");
  p.mutable_last_nack()->set_at_unix_ms(kMay1Noon - 1'000);
  return p;
}

TEST(RenderProxiesTest, TableWithCompactTypeStatesAndTruncatedNack) {
  v1::ListProxiesResponse r;
  *r.add_proxies() = Synced("edge-1");
  *r.add_proxies() = Nacked("edge-22");
  // The NACK column is cut at 48 columns; TYPES is as wide as its widest cell.
  EXPECT_EQ(RenderProxies(r, OutputFormat::kTable, kNow),
            "NODE      GROUP   ADDRESS          STATE    VERSION   "
            "TYPES                                 LAST NACK                                       "
            "   LAST SEEN\n"
            "edge-1    edge    10.0.0.7:51234   SYNCED   v7        "
            "c:synced,e:synced,r:synced,l:synced   -                                               "
            "   5s ago\n"
            "edge-22   edge    10.0.0.7:51234   NACKED   v7        "
            "c:synced,e:synced,r:nacked,l:synced   routes: routes[3].cluster: unknown cluster "
            "\"p...   5s ago\n");
}

TEST(RenderProxiesTest, DisconnectedProxyWithoutVersionOrTypes) {
  v1::ListProxiesResponse r;
  v1::Proxy* p = r.add_proxies();
  p->mutable_node()->set_id("edge-3");
  p->set_state(v1::DISCONNECTED);
  EXPECT_EQ(RenderProxies(r, OutputFormat::kTable, kNow),
            "NODE     GROUP   ADDRESS   STATE          VERSION   TYPES   LAST NACK   LAST SEEN\n"
            "edge-3   -       -         DISCONNECTED   -         -       -           -\n");
}

TEST(RenderProxiesTest, NoProxiesSaysSo) {
  EXPECT_EQ(RenderProxies(v1::ListProxiesResponse(), OutputFormat::kTable, kNow),
            "no proxies known to the control plane\n");
}

TEST(RenderProxiesTest, Json) {
  v1::ListProxiesResponse r;
  v1::Proxy p = Nacked("edge-22");
  p.mutable_types()->DeleteSubrange(1, 3);  // keep routes only
  (*p.mutable_node()->mutable_labels())["zone"] = "b";
  (*p.mutable_node()->mutable_labels())["canary"] = "true";
  *r.add_proxies() = p;
  EXPECT_EQ(RenderProxies(r, OutputFormat::kJson, kNow), R"({
  "proxies": [
    {
      "node": "edge-22",
      "group": "edge",
      "labels": {
        "canary": "true",
        "zone": "b"
      },
      "build_version": "0.1.0",
      "address": "10.0.0.7:51234",
      "state": "NACKED",
      "config_version": 7,
      "connected_since": "2024-05-01T11:59:00.000Z",
      "last_seen": "2024-05-01T12:00:00.000Z",
      "types": [
        {
          "type": "routes",
          "state": "NACKED",
          "acked_version": "abc"
        }
      ],
      "last_nack": {
        "type": "routes",
        "version": "def",
        "error": "routes[3].cluster: unknown cluster \"payments-v2\" in route",
        "at": "2024-05-01T11:59:59.000Z"
      }
    }
  ]
}
)");
}

TEST(RenderProxiesTest, JsonOfAProxyThatNeverNackedHasNullNack) {
  v1::ListProxiesResponse r;
  v1::Proxy* p = r.add_proxies();
  p->mutable_node()->set_id("edge-3");
  p->set_state(v1::DISCONNECTED);
  EXPECT_EQ(RenderProxies(r, OutputFormat::kJson, kNow), R"({
  "proxies": [
    {
      "node": "edge-3",
      "group": "",
      "labels": {},
      "build_version": "",
      "address": "",
      "state": "DISCONNECTED",
      "config_version": 0,
      "connected_since": null,
      "last_seen": null,
      "types": [],
      "last_nack": null
    }
  ]
}
)");
}

}  // namespace
}  // namespace hermes::ctl
