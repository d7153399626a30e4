// Central health checking: the control plane's HealthMonitor probes real upstreams, records each
// transition in a real SQLite store, publishes the unhealthy set, and starts again from what it
// recorded; a managed proxy applies those verdicts (health-only updates swap no snapshot).
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "controlplane/health/health_monitor.h"
#include "controlplane/store/sqlite_stores.h"
#include "tests/integration/proxy_harness.h"
#include "tests/support/test_upstream.h"
#include "tests/unit/controlplane/store_fixture.h"

namespace hermes::integration {
namespace {

using controlplane::HealthMonitor;

std::string Address(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

v1::Config CheckedConfig(const std::vector<uint16_t>& ports) {
  std::string yaml =
      "clusters:\n  - name: up\n"
      "    health_check: { interval: 100ms, timeout: 100ms, unhealthy_threshold: 2, "
      "healthy_threshold: 1, path: /health }\n    endpoints:\n";
  for (uint16_t p : ports) yaml += "      - { address: \"" + Address(p) + "\" }\n";
  yaml += "  - name: unchecked\n    health_check: { enabled: false }\n"
          "    endpoints: [ { address: \"127.0.0.1:1\" } ]\n"
          "routes:\n  - { name: all, cluster: up }\n";
  return LoadOrFail(yaml);
}

// What the monitor published last, with a wait.
class Published {
 public:
  void Set(discovery::UnhealthyEndpoints u) {
    std::lock_guard lock(mu_);
    last_ = std::move(u);
    ++count_;
  }
  bool WaitFor(const discovery::UnhealthyEndpoints& want, std::chrono::milliseconds limit = 5s) {
    for (auto start = std::chrono::steady_clock::now(); std::chrono::steady_clock::now() - start < limit;) {
      {
        std::lock_guard lock(mu_);
        if (count_ > 0 && last_ == want) return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  std::mutex mu_;
  discovery::UnhealthyEndpoints last_;
  int count_ = 0;
};

TEST(CentralHealthTest, TransitionsArePublishedRecordedAndRememberedAcrossARestart) {
  controlplane::TempDir dir;
  SystemClock clock;
  auto opened = controlplane::SqliteStores::Open((dir.path() / "hermes.db").string(), clock);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = *opened.value();

  auto a = std::make_unique<test::TestUpstream>();
  test::TestUpstream b;
  uint16_t a_port = a->port();
  v1::Config config = CheckedConfig({a_port, b.port()});
  {
    Published published;
    HealthMonitor monitor(&store.health, clock, [&](discovery::UnhealthyEndpoints u) { published.Set(std::move(u)); });
    monitor.Start();
    monitor.SetConfig(config);
    ASSERT_TRUE(published.WaitFor({}));
    a->stop();
    a.reset();
    ASSERT_TRUE(published.WaitFor({{"up", {Address(a_port)}}})) << "2 x 100 ms + 100 ms timeout";
    auto view = monitor.View();
    EXPECT_FALSE(view.at({"up", Address(a_port)}).healthy);
    EXPECT_FALSE(view.at({"up", Address(a_port)}).reason.empty());
    EXPECT_TRUE(view.at({"up", Address(b.port())}).healthy);
    EXPECT_FALSE(view.at({"unchecked", "127.0.0.1:1"}).checked);
    EXPECT_TRUE(view.at({"unchecked", "127.0.0.1:1"}).healthy) << "never probed";
    monitor.Stop();
  }
  auto events = store.health.ListHealthEvents("up", 10);
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events.value().size(), 1u);
  EXPECT_EQ(events.value()[0].address, Address(a_port));
  EXPECT_FALSE(events.value()[0].healthy);
  EXPECT_FALSE(events.value()[0].reason.empty());

  // A new control plane on the same store keeps the endpoint out before any probe has run...
  Published published;
  HealthMonitor monitor(&store.health, clock, [&](discovery::UnhealthyEndpoints u) { published.Set(std::move(u)); });
  monitor.Start();
  monitor.SetConfig(config);
  EXPECT_EQ(monitor.Unhealthy(), (discovery::UnhealthyEndpoints{{"up", {Address(a_port)}}}));
  // ...and takes it back once probes find it healthy.
  test::TestUpstreamOptions revived_options;
  revived_options.port = a_port;
  test::TestUpstream revived(revived_options);
  ASSERT_TRUE(published.WaitFor({}));
  events = store.health.ListHealthEvents("", 10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events.value().size(), 2u);
  EXPECT_TRUE(events.value()[0].healthy) << "newest first";
  monitor.Stop();
}

TEST(CentralHealthTest, ANameThatDoesNotResolveGetsNoVerdictRatherThanUnhealthy) {
  SystemClock clock;
  test::TestUpstream b;
  v1::Config config = LoadOrFail(
      "clusters:\n  - name: up\n"
      "    health_check: { interval: 50ms, timeout: 50ms, unhealthy_threshold: 1, healthy_threshold: 1 }\n"
      "    endpoints: [ { address: \"no-such-host.invalid:80\" }, { address: \"" + Address(b.port()) + "\" } ]\n"
      "routes:\n  - { name: all, cluster: up }\n");
  Published published;
  HealthMonitor monitor(nullptr, clock, [&](discovery::UnhealthyEndpoints u) { published.Set(std::move(u)); });
  monitor.Start();
  monitor.SetConfig(config);
  ASSERT_TRUE(published.WaitFor({}));
  std::this_thread::sleep_for(300ms);  // six intervals: a probe of it would have failed by now
  EXPECT_TRUE(monitor.Unhealthy().empty()) << "a DNS failure is not the backend's failure";
  EXPECT_EQ(monitor.transitions(), 0u);
  monitor.Stop();
}

TEST(CentralHealthTest, AManagedProxyAppliesTheVerdictsWithoutANewSnapshot) {
  test::TestUpstreamOptions a_options, b_options;
  a_options.name = "a";
  b_options.name = "b";
  test::TestUpstream a(a_options), b(b_options);
  // No health_check block: the proxy must not need one to take the control plane's verdicts.
  v1::Config config = LoadOrFail(ProxyYaml({a.port(), b.port()}));
  dataplane::ServerOptions options;
  options.workers = 1;
  options.central_health = true;
  dataplane::Server server(options);
  ASSERT_TRUE(server.Start(config).empty());
  auto generation = server.snapshot()->generation;

  auto served = [&] {
    std::set<std::string> names;
    HttpConnection client(server.ListenerPort("main"));
    for (int i = 0; i < 6; ++i) {
      auto r = client.Request("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      if (!r) return std::set<std::string>{"(no response)"};
      names.insert(std::string(r->find("X-Upstream")->value()));
    }
    return names;
  };
  EXPECT_EQ(served(), (std::set<std::string>{"a", "b"}));

  ASSERT_TRUE(server.Apply(config, {{"up", {Address(a.port())}}}).empty());
  EXPECT_EQ(server.snapshot()->generation, generation) << "a health-only update compiles nothing";
  EXPECT_EQ(served(), (std::set<std::string>{"b"}));
  EXPECT_EQ(a.requests_seen(), 3u) << "a probed by nobody: the proxy runs no checks of its own";

  ASSERT_TRUE(server.Apply(config, {}).empty());
  EXPECT_EQ(served(), (std::set<std::string>{"a", "b"}));

  // A config change carries the verdicts in with it: the new endpoint is out from its first request.
  test::TestUpstreamOptions c_options;
  c_options.name = "c";
  test::TestUpstream c(c_options);
  v1::Config bigger = LoadOrFail(ProxyYaml({a.port(), b.port(), c.port()}));
  ASSERT_TRUE(server.Apply(bigger, {{"up", {Address(c.port())}}}).empty());
  EXPECT_GT(server.snapshot()->generation, generation);
  EXPECT_EQ(served(), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(c.requests_seen(), 0u);
  server.Shutdown();
  server.Wait();
}

}  // namespace
}  // namespace hermes::integration
