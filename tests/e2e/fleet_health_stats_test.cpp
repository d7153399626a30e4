// Issue 5 end to end: the control plane checks the backends centrally and steers every proxy;
// the proxies push their stats back and the fleet's counts are exact, across a control-plane
// restart. Real processes (hermes-controlplane on a SQLite file, managed hermes proxies,
// hermes-test-upstream backends, curl) on loopback.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fleet_support.h"

namespace hermes::e2e {
namespace {

using SysClock = std::chrono::system_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SysClock::now().time_since_epoch()).count();
}

template <class Response, class Request, class Method>
Response Call(ControlPlane& cp, Method method, const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(SysClock::now() + 10s);
  Response response;
  grpc::Status status = (cp.admin().*method)(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

v1::ListBackendsResponse Backends(ControlPlane& cp) {
  return Call<v1::ListBackendsResponse>(cp, &v1::AdminService::Stub::ListBackends, v1::ListBackendsRequest{});
}

v1::BackendEndpoint Backend(ControlPlane& cp, const std::string& address) {
  v1::ListBackendsResponse backends = Backends(cp);
  for (const auto& c : backends.clusters())
    for (const auto& e : c.endpoints())
      if (e.address() == address) return e;
  return {};
}

v1::GetStatsResponse Stats(ControlPlane& cp, const std::string& proxy = "") {
  v1::GetStatsRequest request;
  request.set_proxy(proxy);
  return Call<v1::GetStatsResponse>(cp, &v1::AdminService::Stub::GetStats, request);
}

// The body of GET `path` through the proxy on `port`, or "" when it fails.
std::string Get(const TempDir& dir, uint16_t port, const std::string& path) {
  Finished f = Curl({"-f", Url(port, path)}, dir);
  return f.exit_code == 0 ? f.out : "";
}

// Sends `n` GETs through one curl process (URL globbing, one kept-alive connection); returns
// how many answered 200.
int Requests(const TempDir& dir, uint16_t port, int n, const std::string& path = "/r") {
  Finished f = Curl({"-s", "-o", "/dev/null", "-w", "%{http_code}\\n",
                     Url(port, path + "/[1-" + std::to_string(n) + "]")}, dir);
  std::istringstream lines(f.out);
  int ok = 0;
  for (std::string line; std::getline(lines, line);) ok += line == "200";
  return ok;
}

// The "healthy" of `address` in a proxy's /backends (the health it applies).
std::optional<bool> ProxyHealthy(const TempDir& dir, uint16_t admin_port, const std::string& address) {
  Finished f = Curl({"-s", Url(admin_port, "/backends")}, dir);
  auto at = f.out.find("\"" + address + "\"");
  if (at == std::string::npos) return std::nullopt;
  auto h = f.out.find("\"healthy\":", at);
  if (h == std::string::npos) return std::nullopt;
  return f.out.compare(h + 10, 4, "true") == 0;
}

std::string CheckedYaml(uint16_t a, uint16_t b) {
  return "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\n"
         "admin: { address: off }\n"
         "clusters:\n"
         "  - name: web\n"
         "    health_check: { interval: 200ms, timeout: 200ms, unhealthy_threshold: 2,\n"
         "                    healthy_threshold: 1, path: /health }\n"
         // The proxies' own outlier detection also ejects a dead backend (connect failures
         // before the checks find it down); a short ejection lets the test see it come back.
         "    outlier_detection: { base_ejection_time: 500ms }\n"
         "    endpoints: [ { address: \"127.0.0.1:" + std::to_string(a) + "\" },\n"
         "                 { address: \"127.0.0.1:" + std::to_string(b) + "\" } ]\n"
         "routes:\n"
         "  - name: all\n"
         "    match: { prefix: / }\n"
         "    cluster: web\n"
         "    retry_policy: { retry_on: [connect-failure, reset, gateway-error], num_retries: 2 }\n";
}

TEST(FleetHealthTest, ABackendThatDiesIsTakenOutOfEveryProxyAndComesBackWhenItReturns) {
  TempDir dir;
  auto a = std::make_unique<UpstreamProcess>(dir, "a");
  UpstreamProcess b(dir, "b");
  uint16_t a_port = a->port();
  std::string a_address = "127.0.0.1:" + std::to_string(a_port);
  ControlPlane cp(dir, dir.File("hermes.db"), {"--stats-interval", "1s"});
  ManagedProxy p1(dir, "p1", cp.address()), p2(dir, "p2", cp.address());
  ASSERT_EQ(cp.Apply(CheckedYaml(a_port, b.port())).errors_size(), 0);
  ASSERT_TRUE(cp.WaitFor("p1", v1::SYNCED));
  ASSERT_TRUE(cp.WaitFor("p2", v1::SYNCED));
  EXPECT_EQ(Backend(cp, a_address).health(), v1::ENDPOINT_HEALTHY);

  // Clients keep sending through both proxies while a dies and comes back.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, ok{0};
  std::vector<std::thread> clients;
  for (uint16_t port : {p1.port(), p2.port()}) {
    clients.emplace_back([&, port] {
      while (!stop) {
        ok += Requests(dir, port, 20);
        sent += 20;
      }
    });
  }
  std::this_thread::sleep_for(300ms);

  int64_t killed_at = NowMs();
  a->process().Kill();
  a.reset();
  v1::BackendEndpoint down;
  for (auto until = Clock::now() + 10s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
    down = Backend(cp, a_address);
    if (down.health() == v1::ENDPOINT_UNHEALTHY) break;
  }
  ASSERT_EQ(down.health(), v1::ENDPOINT_UNHEALTHY);
  EXPECT_FALSE(down.health_reason().empty());
  // interval x threshold + timeout (no jitter configured) = 600 ms; a probe may have just
  // started when the backend died, hence one more interval.
  int64_t detect_ms = down.health_changed_unix_ms() - killed_at;
  EXPECT_LE(detect_ms, 800) << "detected " << detect_ms << " ms after the kill";
  // Every proxy takes it out (the push follows detection at once).
  for (uint16_t admin : {p1.admin_port(), p2.admin_port()}) {
    std::optional<bool> healthy;
    for (auto until = Clock::now() + 5s; Clock::now() < until; std::this_thread::sleep_for(10ms)) {
      healthy = ProxyHealthy(dir, admin, a_address);
      if (healthy == false) break;
    }
    EXPECT_EQ(healthy, false) << "proxy admin port " << admin;
  }
  // The recorded history has the transition.
  auto events = Call<v1::ListHealthEventsResponse>(cp, &v1::AdminService::Stub::ListHealthEvents,
                                                   v1::ListHealthEventsRequest{});
  ASSERT_GE(events.events_size(), 1);
  EXPECT_EQ(events.events(0).address(), a_address);
  EXPECT_FALSE(events.events(0).healthy());

  // Revived on the same port: back in rotation everywhere.
  UpstreamProcess revived(dir, "a", a_port);
  v1::BackendEndpoint up;
  for (auto until = Clock::now() + 10s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
    up = Backend(cp, a_address);
    if (up.health() == v1::ENDPOINT_HEALTHY) break;
  }
  EXPECT_EQ(up.health(), v1::ENDPOINT_HEALTHY);
  for (uint16_t admin : {p1.admin_port(), p2.admin_port()}) {
    std::optional<bool> healthy;
    for (auto until = Clock::now() + 5s; Clock::now() < until; std::this_thread::sleep_for(10ms)) {
      healthy = ProxyHealthy(dir, admin, a_address);
      if (healthy == true) break;
    }
    EXPECT_EQ(healthy, true);
  }
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(sent.load(), 0);
  EXPECT_EQ(ok.load(), sent.load()) << "retries hide the dead backend from clients";
  // Back in rotation on both proxies (once their local ejection, if any, has run out).
  for (auto [port, admin] : {std::pair{p1.port(), p1.admin_port()}, std::pair{p2.port(), p2.admin_port()}}) {
    bool a_served = false;
    for (auto until = Clock::now() + 5s; Clock::now() < until && !a_served; std::this_thread::sleep_for(20ms))
      a_served = Get(dir, port, "/").find("upstream a") != std::string::npos;
    EXPECT_TRUE(a_served) << "proxy port " << port << " says "
                          << Curl({"-s", Url(admin, "/backends")}, dir).out << " and serves "
                          << Get(dir, port, "/");
  }

  auto status = Call<v1::GetStatusResponse>(cp, &v1::AdminService::Stub::GetStatus, v1::GetStatusRequest{});
  EXPECT_EQ(status.health(), v1::HEALTHY);
  EXPECT_EQ(status.proxies_connected(), 2u);
  EXPECT_EQ(status.backends_healthy(), 2u);
  EXPECT_EQ(status.backends_total(), 2u);
}

TEST(FleetStatsTest, ExactlyTenThousandRequestsThroughTwoProxiesAcrossAControlPlaneRestart) {
  TempDir dir;
  UpstreamProcess web(dir, "web");
  std::string db = dir.File("hermes.db");
  auto cp = std::make_unique<ControlPlane>(dir, db, std::vector<std::string>{"--stats-interval", "1s"});
  std::string address = cp->address();
  ManagedProxy p1(dir, "p1", address), p2(dir, "p2", address);
  std::string yaml = "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\nadmin: { address: off }\n"
                     "clusters:\n  - { name: web, health_check: { enabled: false }, endpoints: [ { address: \"127.0.0.1:" +
                     std::to_string(web.port()) + "\" } ] }\n"
                     "routes:\n  - { name: all, match: { prefix: / }, cluster: web }\n";
  ASSERT_EQ(cp->Apply(yaml).errors_size(), 0);
  ASSERT_TRUE(cp->WaitFor("p1", v1::SYNCED));
  ASSERT_TRUE(cp->WaitFor("p2", v1::SYNCED));

  EXPECT_EQ(Requests(dir, p1.port(), 2500), 2500);
  EXPECT_EQ(Requests(dir, p2.port(), 2500), 2500);
  std::this_thread::sleep_for(1500ms);  // at least one report from each

  // kill -9: whatever the control plane had not yet written is re-sent by the proxies, whose
  // counters are cumulative.
  uint16_t port = cp->port();
  cp->process().Kill();
  cp.reset();
  EXPECT_EQ(Requests(dir, p1.port(), 2500), 2500) << "proxies serve without the control plane";
  EXPECT_EQ(Requests(dir, p2.port(), 2500), 2500);
  // The proxies reconnect to the address they were given: the new control plane takes it.
  cp = std::make_unique<ControlPlane>(
      dir, db, std::vector<std::string>{"--stats-interval", "1s", "--listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(cp->port(), port);

  // The reporters' backoff is at most 15 s (jittered): one more wait of it after the restart.
  v1::GetStatsResponse stats;
  for (auto until = Clock::now() + 35s; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
    stats = Stats(*cp);
    if (stats.total().requests() >= 10000) break;
  }
  EXPECT_EQ(stats.total().requests(), 10000u);
  EXPECT_EQ(stats.total().responses_by_class_size(), 6);
  if (stats.total().responses_by_class_size() == 6) {
    EXPECT_EQ(stats.total().responses_by_class(2), 10000u);
  }
  std::this_thread::sleep_for(2500ms);  // more reports: nothing counted twice
  stats = Stats(*cp);
  EXPECT_EQ(stats.total().requests(), 10000u);
  ASSERT_EQ(stats.clusters_size(), 1);
  EXPECT_EQ(stats.clusters(0).name(), "web");
  EXPECT_EQ(stats.clusters(0).requests(), 10000u);
  ASSERT_EQ(stats.proxies_size(), 2);
  EXPECT_EQ(stats.proxies(0).requests(), 5000u);
  EXPECT_EQ(stats.proxies(1).requests(), 5000u);
  EXPECT_EQ(Stats(*cp, "p1").total().requests(), 5000u);

  Finished json = Ctl(dir, *cp, {"stats", "-o", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("10000"), std::string::npos) << json.out;
}

}  // namespace
}  // namespace hermes::e2e
