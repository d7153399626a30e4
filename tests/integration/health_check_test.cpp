// Active health checks against real test upstreams on loopback: the checker alone (up, down,
// wrong status, slow, TCP), then a standalone Hermes that stops sending to an endpoint its
// checks find down and takes it back when it recovers.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON, in this one test binary
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "hermes/common/health_checker.h"
#include "tests/integration/proxy_harness.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

namespace json = boost::json;

class CheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { checker_.reset(); });
    work_.reset();
    thread_.join();
  }

  void Check(std::vector<health::Target> targets) {
    asio::post(io_, [this, targets]() mutable {
      checker_ = std::make_unique<health::HealthChecker>(
          io_.get_executor(),
          [this](const std::string& key, bool healthy, const std::string& reason) {
            std::lock_guard lock(mu_);
            health_[key] = healthy;
            reasons_[key] = reason;
          },
          42);
      checker_->SetTargets(std::move(targets));
    });
  }

  // Waits (up to 5 s) until `key` has been reported `healthy`.
  bool WaitFor(const std::string& key, bool healthy) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu_);
        auto it = health_.find(key);
        if (it != health_.end() && it->second == healthy) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::string Reason(const std::string& key) {
    std::lock_guard lock(mu_);
    return reasons_[key];
  }

  static health::Target Target(const std::string& key, uint16_t port, std::string path) {
    health::Target t;
    t.key = key;
    t.host = "127.0.0.1";
    t.addresses = {tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)};
    t.spec.path = std::move(path);
    t.spec.interval = 50ms;
    t.spec.timeout = 200ms;
    t.spec.healthy_threshold = 2;
    t.spec.unhealthy_threshold = 2;
    return t;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<health::HealthChecker> checker_;
  std::mutex mu_;
  std::map<std::string, bool> health_;
  std::map<std::string, std::string> reasons_;
};

TEST_F(CheckerTest, DownWrongStatusAndSlowEndpointsTurnUnhealthyWithAReason) {
  test::TestUpstream up;
  uint16_t down = UnusedPort();
  auto tcp_down = Target("tcp-down", down, "");
  tcp_down.spec.kind = health::ProbeSpec::Kind::kTcp;
  Check({Target("up", up.port(), "/health"), Target("down", down, "/health"),
         Target("wrong", up.port(), "/status/503"), Target("slow", up.port(), "/delay/2000"), tcp_down});
  EXPECT_TRUE(WaitFor("down", false));
  EXPECT_NE(Reason("down").find("connect"), std::string::npos) << Reason("down");
  EXPECT_TRUE(WaitFor("wrong", false));
  EXPECT_EQ(Reason("wrong"), "HTTP 503");
  EXPECT_TRUE(WaitFor("slow", false));
  EXPECT_NE(Reason("slow").find("timeout"), std::string::npos) << Reason("slow");
  EXPECT_TRUE(WaitFor("tcp-down", false));
  std::lock_guard lock(mu_);
  EXPECT_EQ(health_.count("up"), 0u) << "a healthy endpoint has no transition to report";
}

TEST_F(CheckerTest, ExpectedStatusesDecideWhatPasses) {
  test::TestUpstream up;
  auto t = Target("503-ok", up.port(), "/status/503");
  t.spec.expected = {{503, 503}};
  auto wrong = Target("200-not-ok", up.port(), "/health");
  wrong.spec.expected = {{204, 204}};
  Check({t, wrong});
  EXPECT_TRUE(WaitFor("200-not-ok", false));
  std::lock_guard lock(mu_);
  EXPECT_EQ(health_.count("503-ok"), 0u);
}

TEST_F(CheckerTest, AnEndpointThatComesBackTurnsHealthyAgain) {
  auto upstream = std::make_unique<test::TestUpstream>();
  uint16_t port = upstream->port();
  Check({Target("flaky", port, "/health")});
  upstream->stop();
  upstream.reset();
  EXPECT_TRUE(WaitFor("flaky", false));
  test::TestUpstreamOptions options;
  options.port = port;
  test::TestUpstream revived(options);
  EXPECT_TRUE(WaitFor("flaky", true));
}

TEST(ProxyHealthCheckTest, StandaloneHermesStopsSendingToAnEndpointItsChecksFindDown) {
  test::TestUpstreamOptions a_options, b_options;
  a_options.name = "a";
  b_options.name = "b";
  auto a = std::make_unique<test::TestUpstream>(a_options);
  test::TestUpstream b(b_options);
  uint16_t a_port = a->port();
  std::string yaml = "listeners:\n" + std::string(kListener) +
                     "admin: { address: \"127.0.0.1:0\" }\n"
                     "clusters:\n  - name: up\n    connect_timeout: 500ms\n"
                     "    circuit_breaker: { enabled: false }\n"
                     "    health_check: { interval: 100ms, timeout: 100ms, unhealthy_threshold: 2, "
                     "healthy_threshold: 1, path: /health }\n"
                     "    endpoints:\n"
                     "      - { address: \"127.0.0.1:" + std::to_string(a_port) + "\" }\n"
                     "      - { address: \"127.0.0.1:" + std::to_string(b.port()) + "\" }\n"
                     "routes:\n  - { name: all, cluster: up }\n";
  Proxy proxy(yaml);
  auto backends = [&] {
    HttpConnection admin(proxy.admin_port());
    auto r = admin.Request("GET /backends HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    return r ? json::parse(r->body()) : json::value();
  };
  auto a_healthy = [&] {
    json::value list = backends();
    for (const auto& e : list.as_array())
      if (e.at("address").as_string() == "127.0.0.1:" + std::to_string(a_port)) return e.at("healthy").as_bool();
    return true;
  };
  a->stop();
  a.reset();
  bool out = false;
  for (int i = 0; i < 300 && !out; ++i) {
    out = !a_healthy();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(out) << "interval x threshold + timeout is 300 ms";
  uint64_t b_before = b.requests_seen();
  HttpConnection client(proxy.port());
  for (int i = 0; i < 10; ++i) {
    auto r = client.Request(Get("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u);
  }
  // Every request went to b, none tried a first (b also answers the checker's /health probes).
  EXPECT_GE(b.requests_seen() - b_before, 10u);

  test::TestUpstreamOptions revived_options;
  revived_options.port = a_port;
  revived_options.name = "a";
  test::TestUpstream revived(revived_options);
  bool back = false;
  for (int i = 0; i < 300 && !back; ++i) {
    back = a_healthy();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(back);
  std::set<std::string> served;
  for (int i = 0; i < 10; ++i) {
    auto r = client.Request(Get("/"));
    ASSERT_TRUE(r);
    served.insert(std::string(r->find("X-Upstream")->value()));
  }
  EXPECT_TRUE(served.count("a")) << "a is back in rotation";
}

}  // namespace
}  // namespace hermes::integration
