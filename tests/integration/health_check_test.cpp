// Active health checks against real test upstreams on loopback: the checker alone (up, down,
// wrong status, slow, TCP), its probe connections (kept open between probes, reopened when the
// server closes them, never more than max_in_flight probes at once), then a standalone Hermes
// that stops sending to an endpoint its checks find down and takes it back when it recovers.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON, in this one test binary
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "hermes/common/health_checker.h"
#include "tests/integration/proxy_harness.h"
#include "tests/support/eventually.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

namespace json = boost::json;

// A keep-alive HTTP server that answers every request "200 ok" after `delay`, closes a connection
// that stays idle for `idle_close` (without announcing it, as servers with an idle timeout do),
// and counts connections, requests and the most requests it held at once.
class ProbeServer {
 public:
  struct Options {
    std::chrono::milliseconds delay{0};
    std::optional<std::chrono::milliseconds> idle_close;
  };

  explicit ProbeServer(Options options) : options_(options) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ProbeServer() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  uint64_t connections() const { return connections_; }
  uint64_t requests() const { return requests_; }
  int max_held() const { return max_held_; }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(ProbeServer& server, tcp::socket socket)
        : server(server), socket(std::move(socket)), timer(this->socket.get_executor()) {}

    void ReadRequest() {
      if (server.options_.idle_close) {
        timer.expires_after(*server.options_.idle_close);
        timer.async_wait([self = shared_from_this()](error_code ec) {
          if (!ec) self->socket.close(ec);
        });
      }
      asio::async_read_until(
          socket, asio::dynamic_buffer(in), "\r\n\r\n",
          [self = shared_from_this()](error_code ec, size_t n) { self->OnRequest(ec, n); });
    }
    void OnRequest(error_code ec, size_t n) {
      if (ec) return;
      in.erase(0, n);
      ++server.requests_;
      int held = ++server.held_;
      for (int max = server.max_held_;
           held > max && !server.max_held_.compare_exchange_weak(max, held);) {
      }
      timer.expires_after(server.options_.delay);  // cancels the idle close
      timer.async_wait([self = shared_from_this()](error_code tec) {
        if (tec != asio::error::operation_aborted) self->Respond();
      });
    }
    void Respond() {
      --server.held_;
      static constexpr std::string_view kResponse =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      asio::async_write(socket, asio::buffer(kResponse),
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (!ec) self->ReadRequest();
                        });
    }

    ProbeServer& server;
    tcp::socket socket;
    asio::steady_timer timer;
    std::string in;
  };

  void Accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections_;
      std::make_shared<Session>(*this, std::move(socket))->ReadRequest();
      Accept();
    });
  }

  Options options_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<int> held_{0};
  std::atomic<int> max_held_{0};
};

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

  void Check(std::vector<health::Target> targets, health::HealthCheckerOptions options = {}) {
    asio::post(io_, [this, targets, options]() mutable {
      checker_ = std::make_unique<health::HealthChecker>(
          io_.get_executor(),
          [this](const std::string& key, bool healthy, const std::string& reason) {
            std::lock_guard lock(mu_);
            health_[key] = healthy;
            reasons_[key] = reason;
            ++transitions_;
          },
          42, options);
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

  // The checker's counters, read on its thread.
  health::HealthCheckerStats Stats() {
    std::promise<health::HealthCheckerStats> stats;
    asio::post(io_, [&] { stats.set_value(checker_->stats()); });
    return stats.get_future().get();
  }

  // Waits until the checker has finished `probes` probes.
  bool WaitForProbes(uint64_t probes) {
    return test::Eventually([&] { return Stats().probes_finished >= probes; });
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
  int transitions_ = 0;  // guarded by mu_
};

TEST_F(CheckerTest, DownWrongStatusAndSlowEndpointsTurnUnhealthyWithAReason) {
  test::TestUpstream up;
  uint16_t down = UnusedPort();
  auto tcp_down = Target("tcp-down", down, "");
  tcp_down.spec.kind = health::ProbeSpec::Kind::kTcp;
  Check({Target("up", up.port(), "/health"), Target("down", down, "/health"),
         Target("wrong", up.port(), "/status/503"), Target("slow", up.port(), "/delay/2000"),
         tcp_down});
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

TEST_F(CheckerTest, ATargetThatStartsUnhealthyIsReportedHealthyOnceProbesPass) {
  test::TestUpstream up;
  auto t = Target("was-down", up.port(), "/health");
  t.initially_healthy = false;
  Check({t});
  EXPECT_TRUE(WaitFor("was-down", true));
  EXPECT_EQ(Reason("was-down"), "HTTP 200");
}

TEST_F(CheckerTest, ConsecutiveHttpProbesReuseOneConnection) {
  test::TestUpstream up;
  auto t = Target("up", up.port(), "/health");
  t.spec.interval = 20ms;
  Check({t});
  ASSERT_TRUE(WaitForProbes(5));
  health::HealthCheckerStats stats = Stats();
  EXPECT_EQ(up.connections_accepted(), 1u);
  EXPECT_GE(up.requests_seen(), 5u);
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_GE(stats.connections_reused, stats.probes_finished - 1);
  EXPECT_EQ(stats.stale_retries, 0u);
  std::lock_guard lock(mu_);
  EXPECT_EQ(transitions_, 0);
}

TEST_F(CheckerTest, ResponseBodiesAndInterimResponsesKeepTheConnection) {
  test::TestUpstream sized, chunked, hinted;
  auto a = Target("sized", sized.port(), "/bytes/5000");
  auto b = Target("chunked", chunked.port(), "/chunked/5000");
  auto c = Target("hinted", hinted.port(), "/early-hints");
  for (auto* t : {&a, &b, &c}) t->spec.interval = 20ms;
  Check({a, b, c});
  ASSERT_TRUE(WaitForProbes(15));
  EXPECT_EQ(sized.connections_accepted(), 1u);
  EXPECT_EQ(chunked.connections_accepted(), 1u);
  EXPECT_EQ(hinted.connections_accepted(), 1u);
  std::lock_guard lock(mu_);
  EXPECT_EQ(transitions_, 0);
}

TEST_F(CheckerTest, AResponseWithConnectionCloseMakesTheNextProbeReconnect) {
  test::TestUpstream up;
  auto t = Target("closing", up.port(), "/close-after-response");
  t.spec.interval = 20ms;
  t.spec.unhealthy_threshold = 1;
  Check({t});
  ASSERT_TRUE(WaitForProbes(4));
  health::HealthCheckerStats stats = Stats();
  EXPECT_GE(up.connections_accepted(), 4u);
  EXPECT_EQ(stats.connections_reused, 0u) << "the server said it closes";
  EXPECT_EQ(stats.stale_retries, 0u);
  std::lock_guard lock(mu_);
  EXPECT_EQ(transitions_, 0);
}

TEST_F(CheckerTest, AServerThatClosesIdleConnectionsCausesNoFalseFailure) {
  ProbeServer server({.idle_close = 5ms});
  auto t = Target("idle-closing", server.port(), "/health");
  t.spec.interval = 40ms;
  t.spec.unhealthy_threshold = 1;  // a single failed probe would show
  Check({t});
  ASSERT_TRUE(WaitForProbes(6));
  health::HealthCheckerStats stats = Stats();
  EXPECT_GE(stats.stale_retries, 4u) << "the connection kept from the probe before was closed";
  EXPECT_GE(server.connections(), 6u);
  std::lock_guard lock(mu_);
  EXPECT_EQ(transitions_, 0) << reasons_["idle-closing"];
}

TEST_F(CheckerTest, AClosedConnectionIsRetriedOnlyOnce) {
  // The server answers the first probe and is then gone: the retry on a fresh connection is
  // refused, and that is the probe's result.
  auto server = std::make_unique<ProbeServer>(ProbeServer::Options{});
  uint16_t port = server->port();
  auto t = Target("gone", port, "/health");
  t.spec.interval = 20ms;
  t.spec.unhealthy_threshold = 1;
  Check({t});
  ASSERT_TRUE(WaitForProbes(2));
  server.reset();
  EXPECT_TRUE(WaitFor("gone", false));
  EXPECT_NE(Reason("gone").find("connect"), std::string::npos) << Reason("gone");
}

TEST_F(CheckerTest, NoMoreThanMaxInFlightProbesRunAtOnce) {
  ProbeServer server({.delay = 30ms});
  std::vector<health::Target> targets;
  for (int i = 0; i < 12; ++i) {
    auto t = Target("t" + std::to_string(i), server.port(), "/health");
    t.spec.interval = 10ms;
    t.spec.timeout = 2s;
    targets.push_back(t);
  }
  health::HealthCheckerOptions options;
  options.max_in_flight = 3;
  Check(targets, options);
  ASSERT_TRUE(WaitForProbes(48));
  health::HealthCheckerStats stats = Stats();
  EXPECT_LE(stats.in_flight, 3u);
  EXPECT_EQ(server.max_held(), 3) << "at most 3 at once, and the bound was reached";
  EXPECT_GT(stats.probes_waited, 0u);
  EXPECT_GE(stats.lateness.max(), 10ms) << "probes that waited for a slot started late";
  EXPECT_EQ(stats.probes_started, stats.probes_finished + stats.in_flight);
  std::lock_guard lock(mu_);
  EXPECT_EQ(transitions_, 0) << "waiting for a slot is not part of the timeout";
}

TEST_F(CheckerTest, RaisingMaxInFlightStartsWaitingProbes) {
  ProbeServer server({.delay = 30ms});
  std::vector<health::Target> targets;
  for (int i = 0; i < 8; ++i) {
    auto t = Target("t" + std::to_string(i), server.port(), "/health");
    t.spec.interval = 10ms;
    t.spec.timeout = 2s;
    targets.push_back(t);
  }
  health::HealthCheckerOptions options;
  options.max_in_flight = 1;
  Check(targets, options);
  ASSERT_TRUE(WaitForProbes(4));
  EXPECT_EQ(server.max_held(), 1);
  asio::post(io_, [this] { checker_->set_max_in_flight(8); });
  bool wider = false;
  for (int i = 0; i < 500 && !wider; ++i) {
    wider = server.max_held() > 1;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(wider);
  EXPECT_LE(server.max_held(), 8);
}

TEST_F(CheckerTest, RemovingATargetWhoseProbeIsRunningFreesItsSlot) {
  ProbeServer slow({.delay = 10s});
  test::TestUpstream fast;
  auto stuck = Target("stuck", slow.port(), "/health");
  stuck.spec.timeout = 10s;
  health::HealthCheckerOptions options;
  options.max_in_flight = 1;
  Check({stuck}, options);
  for (int i = 0; i < 500 && slow.requests() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(slow.requests(), 1u);
  auto next = Target("next", fast.port(), "/health");
  next.spec.interval = 20ms;
  asio::post(io_, [this, next] { checker_->SetTargets({next}); });
  for (int i = 0; i < 500 && fast.requests_seen() < 3; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GE(fast.requests_seen(), 3u) << "the slot of the removed probe was given back";
  EXPECT_LE(Stats().in_flight, 1u);
}

TEST_F(CheckerTest, NoMoreThanMaxKeptConnectionsStayOpenBetweenProbes) {
  ProbeServer server({});
  std::vector<health::Target> targets;
  for (int i = 0; i < 4; ++i) {
    auto t = Target("t" + std::to_string(i), server.port(), "/health");
    t.spec.interval = 20ms;
    t.spec.unhealthy_threshold = 1;
    targets.push_back(t);
  }
  health::HealthCheckerOptions options;
  options.max_kept_connections = 2;
  Check(targets, options);
  ASSERT_TRUE(WaitForProbes(20));
  health::HealthCheckerStats stats = Stats();
  EXPECT_LE(stats.open_connections, 2u + stats.in_flight);
  EXPECT_GE(stats.connections_reused, 8u) << "two targets keep theirs";
  EXPECT_GE(server.connections(), 10u) << "the other two reconnect for every probe";
  std::lock_guard lock(mu_);
  EXPECT_EQ(transitions_, 0);
}

TEST_F(CheckerTest, TcpProbesOpenAndCloseAConnectionEachTime) {
  ProbeServer server({});
  auto t = Target("tcp", server.port(), "");
  t.spec.kind = health::ProbeSpec::Kind::kTcp;
  t.spec.interval = 20ms;
  Check({t});
  ASSERT_TRUE(WaitForProbes(4));
  // The server counts a connection on its own thread, maybe after the probe that made it ended.
  EXPECT_TRUE(test::Eventually([&] { return server.connections() >= 4u; })) << server.connections();
  EXPECT_EQ(server.requests(), 0u);
  EXPECT_EQ(Stats().connections_reused, 0u);
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
                     "      - { address: \"127.0.0.1:" +
                     std::to_string(a_port) +
                     "\" }\n"
                     "      - { address: \"127.0.0.1:" +
                     std::to_string(b.port()) +
                     "\" }\n"
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
      if (e.at("address").as_string() == "127.0.0.1:" + std::to_string(a_port))
        return e.at("healthy").as_bool();
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
