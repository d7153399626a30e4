// Sticky-session ids across a fleet: hermes-controlplane generates the fleet's key once, keeps it
// in its SQLite store and pushes it to every managed proxy, so two proxies give a client the same
// cookie for the same endpoint, a restarted control plane pushes the same key, and the key shows
// in no hermesctl output and no log. Loopback only; every process is killed at the end.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "dataplane/lb/hash.h"
#include "dataplane/lb/sticky_id.h"
#include "hermes/v1/config.pb.h"
#include "tests/e2e/fleet_support.h"
#include "tests/support/eventually.h"

namespace hermes::e2e {
namespace {

std::string StickyYaml(uint16_t upstream_port) {
  return "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\n"
         "admin: { address: off }\n"
         "clusters:\n"
         "  - name: web\n"
         "    health_check: { enabled: false }\n"
         "    sticky_session: { cookie: { name: hermes_sticky } }\n"
         "    endpoints: [ { address: \"127.0.0.1:" +
         std::to_string(upstream_port) +
         "\" } ]\n"
         "routes:\n"
         "  - { name: all, match: { prefix: / }, cluster: web }\n";
}

// The value of the hermes_sticky cookie a first request through the proxy on `port` is given,
// or "" when the proxy does not answer with one (yet).
std::string StickyCookie(const TempDir& dir, uint16_t port) {
  Finished f = Curl({"-f", "-D", "-", "-o", "/dev/null", Url(port, "/")}, dir);
  const std::string mark = "Set-Cookie: hermes_sticky=";
  auto at = f.out.find(mark);
  if (f.exit_code != 0 || at == std::string::npos) return "";
  at += mark.size();
  return f.out.substr(at, f.out.find(';', at) - at);
}

std::string Hex(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

// The cookie value Hermes gave before ids were keyed: xxHash64 of "cluster\naddress" under a seed
// that was a constant of the source.
std::string ConstantSeedCookie(const std::string& cluster, const std::string& address) {
  return Hex(dataplane::lb::Hash64(cluster + "\n" + address, 0x6865726d65737374ULL));
}

// The sticky_secret in a proxy's cached config (--cache-dir/config.pb), "" without one.
std::string CachedSecret(const TempDir& dir, const std::string& node) {
  std::ifstream in(dir.File("cache-" + node) + "/config.pb", std::ios::binary);
  v1::Config cached;
  return in && cached.ParseFromIstream(&in) ? cached.sticky_secret() : "";
}

TEST(FleetStickyTest,
     ProxiesOfAFleetGiveTheSameCookieUnderAKeyThatSurvivesARestartAndIsNeverShown) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  const std::string address = "127.0.0.1:" + std::to_string(web.port());
  auto cp = std::make_unique<ControlPlane>(dir, dir.File("hermes.db"));
  ManagedProxy p1(dir, "p1", cp->address()), p2(dir, "p2", cp->address());
  WriteFile(dir.File("fleet.yaml"), StickyYaml(web.port()));
  Finished applied = Ctl(dir, *cp, {"apply", "-f", dir.File("fleet.yaml")});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;

  std::string one, two;
  ASSERT_TRUE(test::Eventually([&] { return !(one = StickyCookie(dir, p1.port())).empty(); }, 20s));
  ASSERT_TRUE(test::Eventually([&] { return !(two = StickyCookie(dir, p2.port())).empty(); }, 20s));
  EXPECT_EQ(one, two) << "one endpoint, one fleet key";
  EXPECT_NE(one, ConstantSeedCookie("web", address));

  // The key as pushed: in each proxy's cache (issue 15 makes that file 0600), and the cookie is
  // its HMAC.
  const std::string secret = CachedSecret(dir, "p1");
  ASSERT_EQ(secret.size(), 64u);
  EXPECT_EQ(CachedSecret(dir, "p2"), secret);
  dataplane::lb::StickyIds ids(secret);
  EXPECT_EQ(one, Hex(ids.Id("web", address)));

  // Not part of the stored versions: no hermesctl output shows it.
  WriteFile(dir.File("v2.yaml"),
            StickyYaml(web.port()) + "  - { name: extra, match: { prefix: /x }, cluster: web }\n");
  ASSERT_EQ(Ctl(dir, *cp, {"apply", "-f", dir.File("v2.yaml")}).exit_code, 0);
  for (const std::vector<std::string>& command : {std::vector<std::string>{"get", "config"},
                                                  {"get", "config", "-o", "json"},
                                                  {"history", "-o", "json"},
                                                  {"diff", "1", "2"},
                                                  {"proxies", "-o", "json"}}) {
    Finished shown = Ctl(dir, *cp, command);
    EXPECT_EQ(shown.exit_code, 0) << command[0] << ": " << shown.err;
    EXPECT_EQ((shown.out + shown.err).find(secret), std::string::npos) << command[0];
  }

  // A restarted control plane (same store) pushes the same key: a new proxy with no cache agrees.
  cp->process().Signal(SIGTERM);
  ASSERT_TRUE(cp->process().WaitExit(10s));
  const std::string first_run_logs = cp->process().out() + cp->process().err();
  cp = std::make_unique<ControlPlane>(dir, dir.File("hermes.db"));
  ManagedProxy p3(dir, "p3", cp->address());
  std::string three;
  ASSERT_TRUE(
      test::Eventually([&] { return !(three = StickyCookie(dir, p3.port())).empty(); }, 20s));
  EXPECT_EQ(three, one);

  for (const std::string& logs :
       {first_run_logs, cp->process().out() + cp->process().err(),
        p1.process().out() + p1.process().err(), p2.process().out() + p2.process().err(),
        p3.process().out() + p3.process().err()})
    EXPECT_EQ(logs.find(secret), std::string::npos) << "a log shows the key";
}

}  // namespace
}  // namespace hermes::e2e
