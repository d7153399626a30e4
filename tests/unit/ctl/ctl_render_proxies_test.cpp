// What `hermesctl proxies` and `hermesctl drain` print, as tables and as -o json.
#include <gtest/gtest.h>

#include "ctl/render.h"
#include "golden.h"

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
  p.set_running_version(7);
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
            "NODE      GROUP   ADDRESS          STATE    TARGET   RUNNING   DRAIN   "
            "TYPES                                 LAST NACK                                     "
            "     LAST SEEN\n"
            "edge-1    edge    10.0.0.7:51234   SYNCED   v7       v7        -       "
            "c:synced,e:synced,r:synced,l:synced   -                                             "
            "     5s ago\n"
            "edge-22   edge    10.0.0.7:51234   NACKED   v7       v7        -       "
            "c:synced,e:synced,r:nacked,l:synced   routes: routes[3].cluster: unknown cluster "
            "\"p...   5s ago\n");
}

TEST(RenderProxiesTest, DisconnectedProxyWithoutVersionOrTypes) {
  v1::ListProxiesResponse r;
  v1::Proxy* p = r.add_proxies();
  p->mutable_node()->set_id("edge-3");
  p->set_state(v1::DISCONNECTED);
  EXPECT_EQ(
      RenderProxies(r, OutputFormat::kTable, kNow),
      "NODE     GROUP   ADDRESS   STATE          TARGET   RUNNING   DRAIN   TYPES   LAST NACK   "
      "LAST SEEN\n"
      "edge-3   -       -         DISCONNECTED   -        -         -       -       -           "
      "-\n");
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
      "running_version": 7,
      "in_rollout": false,
      "drain": "serving",
      "active_connections": 0,
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
      "running_version": 0,
      "in_rollout": false,
      "drain": "serving",
      "active_connections": 0,
      "connected_since": null,
      "last_seen": null,
      "types": [],
      "last_nack": null
    }
  ]
}
)");
}

v1::Proxy Targeting(std::string id, uint64_t target, uint64_t running) {
  v1::Proxy p = Synced(std::move(id));
  p.set_config_version(target);
  p.set_running_version(running);
  return p;
}

// A fleet in a rollout to v13: one canary on it, one on its way, and two proxies draining.
v1::ListProxiesResponse InRollout() {
  v1::ListProxiesResponse r;
  *r.add_proxies() = Targeting("edge-1", 12, 12);
  v1::Proxy canary = Targeting("edge-3", 13, 13);
  canary.set_in_rollout(true);
  *r.add_proxies() = canary;
  v1::Proxy moving = Targeting("edge-5", 13, 12);
  moving.set_in_rollout(true);
  moving.set_state(v1::STALE);
  moving.mutable_types(0)->set_state(v1::STALE);  // routes
  *r.add_proxies() = moving;
  v1::Proxy draining = Targeting("edge-2", 12, 12);
  draining.set_drain(v1::DRAINING);
  draining.set_active_connections(12);
  *r.add_proxies() = draining;
  v1::Proxy drained = Targeting("edge-4", 12, 12);
  drained.set_drain(v1::DRAINED);
  *r.add_proxies() = drained;
  return r;
}

TEST(RenderProxiesTest, RolloutAndDrainTextMatchesGolden) {
  EXPECT_EQ(RenderProxies(InRollout(), OutputFormat::kTable, kNow), Golden("proxies-rollout.txt"));
}

TEST(RenderProxiesTest, RolloutAndDrainJsonMatchesGolden) {
  v1::ListProxiesResponse r = InRollout();
  // Two are enough for the shape: the one on its way and the one draining.
  r.mutable_proxies()->DeleteSubrange(4, 1);
  r.mutable_proxies()->DeleteSubrange(0, 2);
  for (auto& p : *r.mutable_proxies()) p.mutable_types()->DeleteSubrange(1, 3);
  EXPECT_EQ(RenderProxies(r, OutputFormat::kJson, kNow), Golden("proxies-rollout.json"));
}

TEST(RenderProxiesTest, NoFootnoteWithoutARollout) {
  v1::ListProxiesResponse r;
  *r.add_proxies() = Synced("edge-1");
  EXPECT_EQ(RenderProxies(r, OutputFormat::kTable, kNow).find("rollout"), std::string::npos);
}

v1::Proxy Draining() {
  v1::Proxy p = Targeting("edge-2", 12, 12);
  p.set_drain(v1::DRAINING);
  p.set_active_connections(12);
  p.mutable_types()->DeleteSubrange(1, 3);
  return p;
}

TEST(RenderDrainTest, TextMatchesGolden) {
  EXPECT_EQ(RenderDrain(Draining(), OutputFormat::kTable), Golden("drain.txt"));
}

TEST(RenderDrainTest, JsonMatchesGolden) {
  EXPECT_EQ(RenderDrain(Draining(), OutputFormat::kJson), Golden("drain.json"));
}

TEST(RenderDrainTest, OneConnectionAndDrained) {
  v1::Proxy p = Draining();
  p.set_active_connections(1);
  EXPECT_EQ(DrainLine(p), "draining edge-2: 1 connection open\n");
  p.set_drain(v1::DRAINED);
  p.set_active_connections(0);
  EXPECT_EQ(DrainLine(p), "drained edge-2\n");
}

}  // namespace
}  // namespace hermes::ctl
