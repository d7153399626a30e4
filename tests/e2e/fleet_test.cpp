// The fleet end to end: hermes-controlplane on a real SQLite file, managed hermes proxies on real
// discovery streams, real test upstreams, driven through the admin gRPC API (what hermesctl
// uses) and HTTP. Loopback only; every process is killed at the end of its test.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hermes/v1/admin.grpc.pb.h"
#include "tests/e2e/fleet_support.h"

namespace hermes::e2e {
namespace {

std::string FleetYaml(uint16_t upstream_port, const std::string& extra_route = "") {
  return "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\n"
         "admin: { address: off }\n"
         "clusters:\n"
         "  - name: web\n"
         "    health_check: { enabled: false }\n"
         "    endpoints: [ { address: \"127.0.0.1:" + std::to_string(upstream_port) + "\" } ]\n"
         "routes:\n" + extra_route +
         "  - { name: all, match: { prefix: / }, cluster: web }\n";
}

// The body of GET `path` through the proxy on `port`, or "" when it fails.
std::string Get(const TempDir& dir, uint16_t port, const std::string& path) {
  Finished f = Curl({"-f", Url(port, path)}, dir);
  return f.exit_code == 0 ? f.out : "";
}

// Waits until GET `path` on `port` answers with a body containing `want`.
bool WaitBody(const TempDir& dir, uint16_t port, const std::string& path, const std::string& want) {
  const auto until = Clock::now() + 20s;
  while (Clock::now() < until) {
    if (Get(dir, port, path).find(want) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Whether `text` has a line starting with `start` that contains `part`.
bool HasLine(const std::string& text, const std::string& start, const std::string& part) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(start, 0) == 0 && line.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(FleetTest, AppliedConfigReachesEveryProxyAndANewRouteIsServedByAll) {
  TempDir dir;
  UpstreamProcess web(dir, "web"), api(dir, "api");
  ControlPlane cp(dir, dir.File("hermes.db"));
  std::vector<std::unique_ptr<ManagedProxy>> proxies;
  for (const char* id : {"p1", "p2", "p3"})
    proxies.push_back(std::make_unique<ManagedProxy>(dir, id, cp.address()));

  auto first = cp.Apply(FleetYaml(web.port()), "first");
  ASSERT_EQ(first.errors_size(), 0);
  EXPECT_TRUE(first.created());
  for (auto& p : proxies) EXPECT_TRUE(WaitBody(dir, p->port(), "/", "upstream web"));
  for (const char* id : {"p1", "p2", "p3"}) EXPECT_TRUE(cp.WaitFor(id, v1::SYNCED)) << id;
  Finished metrics = Curl({Url(cp.http_port(), "/metrics")}, dir);
  EXPECT_NE(metrics.out.find("hermes_controlplane_proxies_synced 3"), std::string::npos) << metrics.out;
  EXPECT_NE(metrics.out.find("hermes_controlplane_config_version 1"), std::string::npos) << metrics.out;

  // A second cluster and a route to it, before the catch-all (first match wins).
  std::string yaml;
  yaml = "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\nadmin: { address: off }\n"
         "clusters:\n"
         "  - { name: web, health_check: { enabled: false }, endpoints: [ { address: \"127.0.0.1:" +
         std::to_string(web.port()) + "\" } ] }\n"
         "  - { name: api, health_check: { enabled: false }, endpoints: [ { address: \"127.0.0.1:" +
         std::to_string(api.port()) + "\" } ] }\n"
         "routes:\n"
         "  - { name: api, match: { prefix: /api }, cluster: api }\n"
         "  - { name: all, match: { prefix: / }, cluster: web }\n";
  auto second = cp.Apply(yaml, "api route");
  ASSERT_EQ(second.errors_size(), 0);
  EXPECT_EQ(second.version().id(), first.version().id() + 1);
  for (auto& p : proxies) {
    EXPECT_TRUE(WaitBody(dir, p->port(), "/api/x", "upstream api"));
    EXPECT_NE(Get(dir, p->port(), "/other").find("upstream web"), std::string::npos);
  }
  for (const char* id : {"p1", "p2", "p3"}) EXPECT_TRUE(cp.WaitFor(id, v1::SYNCED)) << id;

  // The same content again creates nothing.
  auto again = cp.Apply(yaml);
  EXPECT_FALSE(again.created());
  EXPECT_EQ(again.version().id(), second.version().id());
}

TEST(FleetTest, InvalidConfigIsRefusedWithFieldPathsAndNothingIsStored) {
  TempDir dir;
  ControlPlane cp(dir, dir.File("hermes.db"));
  auto refused = cp.Apply("clusters:\n  - name: web\n    endpoints: []\nroutes:\n  - { cluster: nope }\n");
  ASSERT_GE(refused.errors_size(), 2);
  bool route_error = false;
  for (const auto& e : refused.errors()) route_error |= e.path() == "routes[0].cluster";
  EXPECT_TRUE(route_error);
  EXPECT_EQ(refused.version().id(), 0u);
}

TEST(FleetTest, ProxiesKeepServingWithoutTheControlPlaneAndARestartedProxyServesItsCache) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  auto cp = std::make_unique<ControlPlane>(dir, dir.File("hermes.db"));
  auto proxy = std::make_unique<ManagedProxy>(dir, "p1", cp->address());
  ASSERT_EQ(cp->Apply(FleetYaml(web.port())).errors_size(), 0);
  ASSERT_TRUE(WaitBody(dir, proxy->port(), "/", "upstream web"));
  ASSERT_TRUE(cp->WaitFor("p1", v1::SYNCED));

  std::string cp_address = cp->address();
  cp->process().Kill();
  for (int i = 0; i < 5; ++i) EXPECT_NE(Get(dir, proxy->port(), "/").find("upstream web"), std::string::npos);

  // Restarted with the control plane still down: the cached config is served at once.
  uint16_t port = proxy->port();
  proxy->process().Signal(SIGTERM);
  ASSERT_TRUE(proxy->process().WaitExit(10s));
  Process restarted({HERMES_BINARY, "--control-plane", cp_address, "--node-id", "p1", "--cache-dir",
                     dir.File("cache-p1"), "--listen", "127.0.0.1:" + std::to_string(port), "--workers", "1"},
                    dir.File("p1b.out"), dir.File("p1b.err"));
  EXPECT_TRUE(WaitBody(dir, port, "/", "upstream web")) << restarted.err();
}

TEST(FleetTest, AConfigOneProxyCannotApplyIsNackedByItAndTheOthersStaySynced) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  ControlPlane cp(dir, dir.File("hermes.db"));
  ManagedProxy p1(dir, "p1", cp.address());
  ManagedProxy p2(dir, "p2", cp.address(), /*override_listen=*/false);
  uint16_t pushed_port = FreePort();
  auto with_listener = [&](uint16_t port) {
    std::string yaml = FleetYaml(web.port());
    return yaml.replace(yaml.find("127.0.0.1:1\""), 12, "127.0.0.1:" + std::to_string(port) + "\"");
  };
  ASSERT_EQ(cp.Apply(with_listener(pushed_port)).errors_size(), 0);
  ASSERT_TRUE(cp.WaitFor("p1", v1::SYNCED));
  ASSERT_TRUE(cp.WaitFor("p2", v1::SYNCED));
  ASSERT_TRUE(WaitBody(dir, pushed_port, "/", "upstream web"));  // p2 serves where it was told

  // A listener address that is taken on this machine: p2 (which serves the pushed address)
  // cannot bind it; p1 serves its --listen override and applies it.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  ASSERT_EQ(cp.Apply(with_listener(taken.local_endpoint().port())).errors_size(), 0);
  EXPECT_TRUE(cp.WaitFor("p2", v1::NACKED));
  EXPECT_TRUE(cp.WaitFor("p1", v1::SYNCED));
  bool nack_reported = false;
  v1::ListProxiesResponse list = cp.Proxies();
  for (const auto& p : list.proxies())
    if (p.node().id() == "p2") nack_reported = p.last_nack().error().find("bind") != std::string::npos ||
                                               !p.last_nack().error().empty();
  EXPECT_TRUE(nack_reported);
  EXPECT_NE(Get(dir, pushed_port, "/").find("upstream web"), std::string::npos);  // old config serves
}

TEST(FleetTest, FiftyConfigChangesUnderLoadFailNoRequest) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  ControlPlane cp(dir, dir.File("hermes.db"));
  ManagedProxy p1(dir, "p1", cp.address());
  ASSERT_EQ(cp.Apply(FleetYaml(web.port())).errors_size(), 0);
  ASSERT_TRUE(WaitBody(dir, p1.port(), "/", "upstream web"));

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::thread load([&] {
    while (!stop) {
      Finished f = Curl({"-f", "-o", "/dev/null", "-w", "%{http_code}", Url(p1.port(), "/")}, dir);
      (f.out == "200" ? ok : failed)++;
    }
  });
  for (int i = 0; i < 50; ++i) {
    std::string yaml = FleetYaml(web.port(), "  - { name: r" + std::to_string(i) +
                                                 ", match: { prefix: /r" + std::to_string(i) +
                                                 " }, cluster: web }\n");
    ASSERT_EQ(cp.Apply(yaml, "change " + std::to_string(i)).errors_size(), 0);
  }
  EXPECT_TRUE(cp.WaitFor("p1", v1::SYNCED));
  stop = true;
  load.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 0);
}

// hermesctl with the control plane's address (and `env` settings) in its environment.
TEST(FleetTest, HermesctlAppliesListsDiffsRollsBackAndShowsTheProxies) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  ControlPlane cp(dir, dir.File("hermes.db"));
  ManagedProxy p1(dir, "p1", cp.address());
  WriteFile(dir.File("v1.yaml"), FleetYaml(web.port()));
  WriteFile(dir.File("v2.yaml"), FleetYaml(web.port(), "  - { name: extra, match: { prefix: /x }, cluster: web }\n"));
  WriteFile(dir.File("bad.yaml"), "clusters:\n  - name: web\n    endpoints: []\n");

  Finished applied = Ctl(dir, cp, {"apply", "-f", dir.File("v1.yaml"), "--message", "first"});
  EXPECT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.out.find("applied: v1"), std::string::npos) << applied.out;
  Finished second = Ctl(dir, cp, {"apply", "-f", dir.File("v2.yaml")});
  EXPECT_NE(second.out.find("applied: v2"), std::string::npos) << second.out << second.err;
  Finished same = Ctl(dir, cp, {"apply", "-f", dir.File("v2.yaml")});
  EXPECT_NE(same.out.find("unchanged: v2"), std::string::npos) << same.out;

  Finished refused = Ctl(dir, cp, {"apply", "-f", dir.File("bad.yaml")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("clusters[0].endpoints"), std::string::npos) << refused.err;

  Finished history = Ctl(dir, cp, {"history", "-o", "json"});
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("\"message\": \"first\""), std::string::npos) << history.out;

  Finished diff = Ctl(dir, cp, {"diff", "1", "2"});
  EXPECT_NE(diff.out.find("+  - name: \"extra\""), std::string::npos) << diff.out;

  Finished got = Ctl(dir, cp, {"get", "config"});
  EXPECT_NE(got.out.find("name: \"extra\""), std::string::npos) << got.out;

  EXPECT_TRUE(WaitBody(dir, p1.port(), "/x", "upstream web"));
  Finished rolled = Ctl(dir, cp, {"rollback"});
  EXPECT_EQ(rolled.exit_code, 0) << rolled.err;
  EXPECT_NE(rolled.out.find("v3"), std::string::npos) << rolled.out;
  Finished current = Ctl(dir, cp, {"get", "config"});
  EXPECT_EQ(current.out.find("name: \"extra\""), std::string::npos) << "v3 has v1's content";

  EXPECT_TRUE(cp.WaitFor("p1", v1::SYNCED));
  Finished proxies = Ctl(dir, cp, {"proxies", "-o", "json"});
  EXPECT_NE(proxies.out.find("\"node\": \"p1\""), std::string::npos) << proxies.out;
  EXPECT_NE(proxies.out.find("\"state\": \"SYNCED\""), std::string::npos) << proxies.out;

  Finished unreachable = Shell(std::string("HERMES_SERVER=127.0.0.1:1 ") + HERMESCTL_BINARY + " history", dir);
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("cannot reach the control plane at 127.0.0.1:1"), std::string::npos)
      << unreachable.err;
  Finished usage = Ctl(dir, cp, {"histroy"});
  EXPECT_EQ(usage.exit_code, 2);
}

TEST(FleetTest, HermesctlMergeMovesOneClusterRefusesAShadowedRouteAndRemovesOne) {
  TempDir dir;
  UpstreamProcess web(dir, "web"), api(dir, "api");
  ControlPlane cp(dir, dir.File("hermes.db"));
  ManagedProxy p1(dir, "p1", cp.address());
  const std::string both =
      "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\nadmin: { address: off }\n"
      "clusters:\n"
      "  - { name: web, health_check: { enabled: false }, endpoints: [ { address: \"127.0.0.1:" +
      std::to_string(web.port()) + "\" } ] }\n"
      "  - { name: side, health_check: { enabled: false }, endpoints: [ { address: \"127.0.0.1:" +
      std::to_string(web.port()) + "\" } ] }\n"
      "routes:\n"
      "  - { name: side, match: { prefix: /side }, cluster: side }\n"
      "  - { name: all, match: { prefix: / }, cluster: web }\n";
  WriteFile(dir.File("v1.yaml"), both);
  ASSERT_EQ(Ctl(dir, cp, {"apply", "-f", dir.File("v1.yaml")}).exit_code, 0);
  EXPECT_TRUE(WaitBody(dir, p1.port(), "/side", "upstream web"));

  // Only cluster "side", moved to the other upstream: the rest of v1 stays as it is.
  WriteFile(dir.File("side.yaml"),
            "clusters:\n  - name: side\n    health_check: { enabled: false }\n"
            "    endpoints: [ { address: \"127.0.0.1:" + std::to_string(api.port()) + "\" } ]\n");
  Finished dry = Ctl(dir, cp, {"apply", "--merge", "-f", dir.File("side.yaml"), "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(HasLine(dry.out, "+", "127.0.0.1:" + std::to_string(api.port())))
      << "the diff adds the new address: " << dry.out;
  EXPECT_EQ(dry.out.find("\"web\""), std::string::npos) << "untouched clusters are not in the diff: " << dry.out;
  Finished merged = Ctl(dir, cp, {"apply", "--merge", "-f", dir.File("side.yaml"), "-m", "move side"});
  EXPECT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("applied: v2"), std::string::npos) << merged.out;
  EXPECT_TRUE(WaitBody(dir, p1.port(), "/side", "upstream api"));
  EXPECT_NE(Get(dir, p1.port(), "/other").find("upstream web"), std::string::npos);
  Finished got = Ctl(dir, cp, {"get", "config"});
  EXPECT_NE(got.out.find("name: \"all\""), std::string::npos) << got.out;

  // A new route would go after the catch-all: refused, nothing stored.
  WriteFile(dir.File("route.yaml"), "routes: [ { name: extra, match: { prefix: /x }, cluster: side } ]\n");
  Finished shadowed = Ctl(dir, cp, {"apply", "--merge", "-f", dir.File("route.yaml")});
  EXPECT_EQ(shadowed.exit_code, 1);
  EXPECT_NE(shadowed.err.find("\"extra\" would go last, after \"all\""), std::string::npos) << shadowed.err;

  // A merge that would leave a route without its cluster is refused and stores nothing.
  Finished refused = Ctl(dir, cp, {"apply", "--merge", "--remove", "clusters/side"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("v2: routes[0].cluster"), std::string::npos) << refused.err;
  Finished removed = Ctl(dir, cp, {"apply", "--merge", "--remove", "routes/side,clusters/side"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_NE(removed.out.find("applied: v3"), std::string::npos) << removed.out;
  EXPECT_TRUE(WaitBody(dir, p1.port(), "/side", "upstream web")) << "the catch-all serves /side again";
  EXPECT_TRUE(cp.WaitFor("p1", v1::SYNCED));
}

TEST(FleetTest, TheControlPlaneRefusesAMergeItCannotPlaceSafely) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  ControlPlane cp(dir, dir.File("hermes.db"));
  auto call = [&](v1::ApplyConfigRequest request, v1::ApplyConfigResponse* response = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::ApplyConfigResponse ignored;
    return cp.admin().ApplyConfig(&context, request, response ? response : &ignored);
  };
  const std::string cluster =
      "clusters: [ { name: web, health_check: { enabled: false }, endpoints: [ { address: \"127.0.0.1:" +
      std::to_string(web.port()) + "\" } ] } ]\n";
  v1::ApplyConfigRequest merge;
  merge.set_merge(true);
  merge.set_yaml(cluster + "routes: [ { name: all, match: { prefix: / }, cluster: web } ]\n");
  // Into no version at all: a whole config with the defaults.
  v1::ApplyConfigResponse first;
  ASSERT_TRUE(call(merge, &first).ok());
  EXPECT_EQ(first.errors_size(), 0) << first.errors(0).message();
  EXPECT_EQ(first.version().id(), 1u);

  v1::ApplyConfigRequest remove_only;
  remove_only.add_remove("clusters/web");
  EXPECT_EQ(call(remove_only).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "remove needs merge";
  v1::ApplyConfigRequest too_many;
  too_many.set_merge(true);
  for (int i = 0; i <= 10'000; ++i) too_many.add_remove("clusters/c" + std::to_string(i));
  EXPECT_EQ(call(too_many).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ApplyConfigRequest too_long;
  too_long.set_merge(true);
  too_long.add_remove("clusters/" + std::string(2000, 'x'));
  EXPECT_EQ(call(too_long).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A staged v2 is the newest but not the fleet's: a merge into v1 would leave it behind.
  v1::ApplyConfigRequest staged;
  staged.set_yaml(cluster + "routes: [ { name: all, match: { prefix: /v2 }, cluster: web } ]\n");
  staged.set_stage(true);
  ASSERT_TRUE(call(staged).ok());
  grpc::Status refused = call(merge);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("v2 is stored but the fleet runs v1"), std::string::npos)
      << refused.error_message();
}

TEST(FleetTest, WithATokenFileEveryCallAndStreamNeedsTheToken) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  // A trailing space and newline are no part of the token, for any of the three programs.
  WriteFile(dir.File("token"), "s3cret \n");
  ControlPlane cp(dir, dir.File("hermes.db"), {"--token-file", dir.File("token")});
  WriteFile(dir.File("v1.yaml"), FleetYaml(web.port()));

  Finished refused = Ctl(dir, cp, {"apply", "-f", dir.File("v1.yaml")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("token"), std::string::npos) << refused.err;
  Finished wrong = Ctl(dir, cp, {"apply", "-f", dir.File("v1.yaml")}, "HERMES_TOKEN=nope");
  EXPECT_EQ(wrong.exit_code, 1);
  Finished ok = Ctl(dir, cp, {"apply", "-f", dir.File("v1.yaml")}, "HERMES_TOKEN=s3cret");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  Finished from_file = Ctl(dir, cp, {"--token-file", dir.File("token"), "history"});
  EXPECT_EQ(from_file.exit_code, 0) << from_file.err;

  ManagedProxy with(dir, "with", cp.address(), true, {"--token-file", dir.File("token")});
  ManagedProxy without(dir, "without", cp.address());
  EXPECT_TRUE(WaitBody(dir, with.port(), "/", "upstream web"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(Get(dir, without.port(), "/"), "");  // never got a config
}

}  // namespace
}  // namespace hermes::e2e
