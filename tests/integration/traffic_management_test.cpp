// Retries, circuit breakers, outlier detection, cluster limits, sticky sessions and hash
// policies, through a real Hermes server in front of real test upstreams on loopback.
#include <gtest/gtest.h>

#include <boost/json/src.hpp>  // header-only Boost.JSON, in this one test binary
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/integration/proxy_harness.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

namespace json = boost::json;

std::unique_ptr<test::TestUpstream> Upstream(std::string name) {
  test::TestUpstreamOptions options;
  options.name = std::move(name);
  return std::make_unique<test::TestUpstream>(options);
}

std::string Header(const Response& r, std::string_view name) {
  auto it = r.find(name);
  return it == r.end() ? std::string() : std::string(it->value());
}

class TrafficManagementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b", "c"}) upstreams_.push_back(Upstream(name));
  }

  // Cluster "up" over the first `n` upstreams with `cluster_extra` (indented YAML lines of the
  // cluster) and `route_extra` (inside the route's flow map, e.g. "retry_policy: {...}").
  void StartProxy(size_t n, std::string_view cluster_extra, std::string_view route_extra = "") {
    proxy_ = std::make_unique<Proxy>(Yaml(n, cluster_extra, route_extra));
  }

  std::string Yaml(size_t n, std::string_view cluster_extra, std::string_view route_extra = "") {
    std::string yaml = "listeners:\n";
    yaml += kListener;
    yaml += "admin: { address: \"127.0.0.1:0\" }\n";
    yaml += "clusters:\n  - name: up\n    connect_timeout: 500ms\n    health_check: { enabled: false }\n";
    yaml += cluster_extra;
    yaml += "    endpoints:\n";
    for (size_t i = 0; i < n; ++i)
      yaml += "      - { address: \"127.0.0.1:" + std::to_string(upstreams_[i]->port()) + "\" }\n";
    yaml += "routes:\n  - { name: all, cluster: up";
    if (!route_extra.empty()) yaml += std::string(", ") + std::string(route_extra);
    yaml += " }\n";
    return yaml;
  }

  json::value Admin(std::string_view path) {
    HttpConnection client(proxy_->admin_port());
    auto response = client.Request(std::string("GET ") + std::string(path) +
                                   " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(response);
    return response ? json::parse(response->body()) : json::value();
  }

  std::string Circuit(size_t upstream) {
    std::string address = "127.0.0.1:" + std::to_string(upstreams_[upstream]->port());
    json::value circuits = Admin("/circuits");
    const json::value* state = circuits.as_object().if_contains(address);
    return state ? std::string(state->as_string()) : "missing";
  }

  std::vector<std::unique_ptr<test::TestUpstream>> upstreams_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(TrafficManagementTest, RetryOn5xxAnswersFromAnotherEndpoint) {
  StartProxy(2, "    circuit_breaker: { enabled: false }\n",
             "retry_policy: { retry_on: [5xx], num_retries: 1, backoff_base_interval: 1ms }");
  upstreams_[0]->set_forced_status(503);
  HttpConnection client(proxy_->port());
  for (int i = 0; i < 10; ++i) {
    auto response = client.Request(Get("/"));
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->result_int(), 200u);
    EXPECT_EQ(Header(*response, "X-Upstream"), "b");
  }
  EXPECT_GT(upstreams_[0]->requests_seen(), 0u);  // it was tried, and its 503s never reached us
}

TEST_F(TrafficManagementTest, RetriedPutReplaysItsBufferedBody) {
  StartProxy(2, "    circuit_breaker: { enabled: false }\n",
             "retry_policy: { retry_on: [gateway-error], num_retries: 1, backoff_base_interval: 1ms }");
  upstreams_[0]->set_forced_status(502);
  const std::string body(100000, 'x');
  HttpConnection client(proxy_->port());
  for (int i = 0; i < 4; ++i) {
    auto response = client.Request(Get("/upload", "Content-Length: 100000\r\n", "PUT") + body);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 200u);
    auto last = upstreams_[1]->last_request();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->body_bytes, body.size());
  }
  EXPECT_GT(upstreams_[0]->requests_seen(), 0u);
}

TEST_F(TrafficManagementTest, PostThatReachedTheUpstreamIsNotRetried) {
  StartProxy(2, "    circuit_breaker: { enabled: false }\n",
             "retry_policy: { retry_on: [5xx], num_retries: 2, backoff_base_interval: 1ms }");
  upstreams_[0]->set_forced_status(500);
  HttpConnection client(proxy_->port());
  int errors = 0;
  for (int i = 0; i < 6; ++i) {
    auto response = client.Request(Get("/echo", "Content-Length: 2\r\n", "POST") + "hi");
    ASSERT_TRUE(response);
    if (response->result_int() == 500) ++errors;
  }
  // Round robin sends half of them to the failing endpoint, and a POST is not sent twice.
  EXPECT_EQ(errors, 3);
  EXPECT_EQ(upstreams_[0]->requests_seen(), 3u);
  EXPECT_EQ(upstreams_[1]->requests_seen(), 3u);
}

TEST_F(TrafficManagementTest, KilledUpstreamUnderLoadCostsClientsNothingWithRetries) {
  StartProxy(2, "",
             "retry_policy: { retry_on: [connect-failure, reset, 5xx], num_retries: 2, "
             "backoff_base_interval: 1ms }");
  std::vector<std::thread> clients;
  std::atomic<int> failures{0}, ok{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      HttpConnection client(proxy_->port());
      for (int i = 0; i < 150; ++i) {
        auto response = client.Request(Get("/"));
        if (!response || response->result_int() != 200) {
          ADD_FAILURE() << "request " << i << ": "
                        << (response ? std::to_string(response->result_int()) + " " + response->body()
                                     : client.last_error().message());
          ++failures;
          return;
        }
        ++ok;
      }
    });
  }
  while (ok.load() < 100 && failures.load() == 0) std::this_thread::sleep_for(1ms);
  upstreams_[0]->stop();
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ok.load(), 600);
}

TEST_F(TrafficManagementTest, PerTryTimeoutEndsEachTryAndTheLastOneAnswers504) {
  StartProxy(2, "",
             "timeout: 5s, retry_policy: { retry_on: [timeout], num_retries: 1, "
             "per_try_timeout: 200ms, backoff_base_interval: 1ms }");
  HttpConnection client(proxy_->port(), 3s);
  auto response = client.Request(Get("/delay/2000"));
  ASSERT_TRUE(response);
  // Without per-try timeouts the first try would have waited out the delay and answered 200.
  EXPECT_EQ(response->result_int(), 504u);
  EXPECT_EQ(upstreams_[0]->requests_seen(), 1u);  // one try each
  EXPECT_EQ(upstreams_[1]->requests_seen(), 1u);
}

TEST_F(TrafficManagementTest, RetriesStopAtTheClustersMaxRetries) {
  StartProxy(2,
             "    circuit_breaker: { enabled: false }\n"
             "    limits: { max_retries: 0 }\n"
             "    retry_budget: { min_retry_concurrency: 0, budget_percent: 0 }\n",
             "retry_policy: { retry_on: [5xx], num_retries: 2, backoff_base_interval: 1ms }");
  upstreams_[0]->set_forced_status(503);
  HttpConnection client(proxy_->port());
  int unavailable = 0;
  for (int i = 0; i < 4; ++i) {
    auto response = client.Request(Get("/"));
    ASSERT_TRUE(response);
    if (response->result_int() == 503) ++unavailable;
  }
  EXPECT_EQ(unavailable, 2);  // the failing endpoint's answers, not retried
  EXPECT_EQ(upstreams_[1]->requests_seen(), 2u);
}

TEST_F(TrafficManagementTest, ConnectFailureIsRetriedOnAnotherEndpointWithoutAPolicy) {
  upstreams_[0]->stop();
  StartProxy(2, "    circuit_breaker: { enabled: false }\n");
  HttpConnection client(proxy_->port());
  for (int i = 0; i < 6; ++i) {
    auto response = client.Request(Get("/"));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 200u);
    EXPECT_EQ(Header(*response, "X-Upstream"), "b");
  }
}

TEST_F(TrafficManagementTest, BreakerOpensSkipsTheEndpointThenHalfOpensAndCloses) {
  StartProxy(2,
             "    circuit_breaker: { failure_threshold: 3, success_threshold: 1, timeout: 300ms }\n");
  upstreams_[0]->set_forced_status(500);
  HttpConnection client(proxy_->port());
  int failures = 0;
  for (int i = 0; i < 20; ++i) {
    auto response = client.Request(Get("/"));
    ASSERT_TRUE(response);
    if (response->result_int() == 500) ++failures;
  }
  EXPECT_EQ(failures, 3);  // then the breaker kept every request away from it
  EXPECT_EQ(upstreams_[0]->requests_seen(), 3u);
  EXPECT_EQ(Circuit(0), "OPEN");
  EXPECT_EQ(Circuit(1), "CLOSED");

  upstreams_[0]->set_forced_status(0);
  std::this_thread::sleep_for(400ms);  // the breaker's timeout
  EXPECT_EQ(Circuit(0), "HALF-OPEN");
  for (int i = 0; i < 4; ++i) {
    auto response = client.Request(Get("/"));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 200u);
  }
  EXPECT_EQ(Circuit(0), "CLOSED");
  EXPECT_GT(upstreams_[0]->requests_seen(), 3u);
}

TEST_F(TrafficManagementTest, DisabledBreakerNeverOpens) {
  StartProxy(2, "    circuit_breaker: { enabled: false, failure_threshold: 1 }\n");
  upstreams_[0]->set_forced_status(500);
  HttpConnection client(proxy_->port());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client.Request(Get("/")));
  EXPECT_EQ(upstreams_[0]->requests_seen(), 5u);
  EXPECT_EQ(Circuit(0), "CLOSED");
}

TEST_F(TrafficManagementTest, OutlierDetectionEjectsAFailingEndpoint) {
  StartProxy(2,
             "    circuit_breaker: { enabled: false }\n"
             "    outlier_detection: { consecutive_5xx: 2, base_ejection_time: 30s, "
             "max_ejection_percent: 50 }\n");
  upstreams_[0]->set_forced_status(500);
  HttpConnection client(proxy_->port());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.Request(Get("/")));
  EXPECT_EQ(upstreams_[0]->requests_seen(), 2u);
  json::value backends = Admin("/backends");
  for (const auto& b : backends.as_array()) {
    bool is_a = b.at("address").as_string() ==
                "127.0.0.1:" + std::to_string(upstreams_[0]->port());
    EXPECT_EQ(b.at("ejected").as_bool(), is_a);
    EXPECT_EQ(b.at("healthy").as_bool(), !is_a);
  }
}

TEST_F(TrafficManagementTest, ClusterMaxRequestsAnswers503OverloadedAtOnce) {
  StartProxy(1, "    limits: { max_requests: 1 }\n");
  HttpConnection slow(proxy_->port());
  ASSERT_TRUE(slow.Send(Get("/delay/1500")));
  while (upstreams_[0]->requests_seen() == 0) std::this_thread::sleep_for(1ms);
  HttpConnection client(proxy_->port(), 1s);
  auto response = client.Request(Get("/"));
  ASSERT_TRUE(response) << "an overloaded cluster answers at once";
  EXPECT_EQ(response->result_int(), 503u);
  EXPECT_EQ(Header(*response, "x-hermes-overloaded"), "true");
  auto delayed = slow.Read();
  ASSERT_TRUE(delayed);
  EXPECT_EQ(delayed->result_int(), 200u);
  auto after = client.Request(Get("/"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->result_int(), 200u);
}

TEST_F(TrafficManagementTest, StickyCookiePinsAClientToOneEndpointWithoutNamingIt) {
  StartProxy(3, "    sticky_session: { cookie: { name: hermes_sticky, ttl: 1h } }\n");
  HttpConnection client(proxy_->port());
  auto first = client.Request(Get("/"));
  ASSERT_TRUE(first);
  std::string set_cookie = Header(*first, "Set-Cookie");
  ASSERT_TRUE(set_cookie.starts_with("hermes_sticky=")) << set_cookie;
  EXPECT_NE(set_cookie.find("Max-Age=3600"), std::string::npos);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Lax"), std::string::npos);
  std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  for (const auto& u : upstreams_) {
    EXPECT_EQ(cookie.find(std::to_string(u->port())), std::string::npos) << "leaks an address";
  }
  std::string pinned = Header(*first, "X-Upstream");
  for (int i = 0; i < 9; ++i) {
    auto response = client.Request(Get("/", "Cookie: other=1; " + cookie + "\r\n"));
    ASSERT_TRUE(response);
    EXPECT_EQ(Header(*response, "X-Upstream"), pinned);
    EXPECT_EQ(Header(*response, "Set-Cookie"), "") << "already pinned";
  }
}

// The sticky cookie value ("name=<id>") a first request through `proxy` gets.
std::string FirstStickyCookie(Proxy& proxy) {
  HttpConnection client(proxy.port());
  auto response = client.Request(Get("/"));
  if (!response) return "no response";
  std::string set_cookie = Header(*response, "Set-Cookie");
  return set_cookie.substr(0, set_cookie.find(';'));
}

TEST_F(TrafficManagementTest, TwoProxiesWithoutAStickySecretGiveDifferentIdsAndEachKeepsItsOwn) {
  const std::string yaml = Yaml(1, "    sticky_session: { cookie: { name: hermes_sticky } }\n");
  Proxy one(yaml), other(yaml);
  const std::string cookie = FirstStickyCookie(one);
  ASSERT_TRUE(cookie.starts_with("hermes_sticky=")) << cookie;
  EXPECT_NE(FirstStickyCookie(other), cookie) << "one endpoint, two keys of their own";
  // A reload compiles a new snapshot under the same per-process key: clients stay pinned.
  ASSERT_TRUE(one.server().Apply(LoadOrFail(yaml)).empty());
  EXPECT_EQ(FirstStickyCookie(one), cookie);
}

TEST_F(TrafficManagementTest, TwoProxiesWithTheSameStickySecretGiveTheSameIds) {
  const std::string yaml = "sticky_secret: \"one secret for the whole fleet\"\n" +
                           Yaml(1, "    sticky_session: { cookie: { name: hermes_sticky } }\n");
  Proxy one(yaml), other(yaml);
  const std::string cookie = FirstStickyCookie(one);
  ASSERT_TRUE(cookie.starts_with("hermes_sticky=")) << cookie;
  EXPECT_EQ(FirstStickyCookie(other), cookie);
  // A request pinned by one proxy's cookie is served pinned by the other: no new cookie.
  HttpConnection client(other.port());
  auto pinned = client.Request(Get("/", "Cookie: " + cookie + "\r\n"));
  ASSERT_TRUE(pinned);
  EXPECT_EQ(Header(*pinned, "Set-Cookie"), "");
}

TEST_F(TrafficManagementTest, StickyEndpointThatIsEjectedFallsBackToThePolicy) {
  StartProxy(2,
             "    circuit_breaker: { enabled: false }\n"
             "    outlier_detection: { consecutive_5xx: 1, max_ejection_percent: 50 }\n"
             "    sticky_session: { header: x-session }\n");
  HttpConnection client(proxy_->port());
  auto first = client.Request(Get("/"));
  ASSERT_TRUE(first);
  std::string id = Header(*first, "x-session");
  ASSERT_EQ(id.size(), 16u);
  size_t pinned = Header(*first, "X-Upstream") == "a" ? 0 : 1;
  upstreams_[pinned]->set_forced_status(500);
  auto failed = client.Request(Get("/", "x-session: " + id + "\r\n"));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->result_int(), 500u);  // ejected now
  auto moved = client.Request(Get("/", "x-session: " + id + "\r\n"));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->result_int(), 200u);
  EXPECT_EQ(Header(*moved, "X-Upstream"), pinned == 0 ? "b" : "a");
  EXPECT_NE(Header(*moved, "x-session"), id);  // re-pinned
}

TEST_F(TrafficManagementTest, RingHashSendsAKeyToTheSameEndpointEveryTime) {
  StartProxy(3, "    lb_policy: ring_hash\n    hash_policy: [ { header: x-user } ]\n");
  HttpConnection client(proxy_->port());
  std::set<std::string> used;
  for (int user = 0; user < 12; ++user) {
    std::string header = "x-user: user-" + std::to_string(user) + "\r\n";
    auto first = client.Request(Get("/", header));
    ASSERT_TRUE(first);
    std::string endpoint = Header(*first, "X-Upstream");
    used.insert(endpoint);
    for (int i = 0; i < 4; ++i) {
      auto again = client.Request(Get("/", header));
      ASSERT_TRUE(again);
      EXPECT_EQ(Header(*again, "X-Upstream"), endpoint) << "user " << user;
    }
  }
  EXPECT_GE(used.size(), 2u);  // keys spread over the endpoints
}

TEST_F(TrafficManagementTest, MaglevKeysOfAvailableEndpointsStayWhenAnotherIsEjected) {
  StartProxy(3,
             "    lb_policy: maglev\n    hash_policy: [ { cookie: uid }, { source_ip: true } ]\n"
             "    circuit_breaker: { enabled: false }\n"
             "    outlier_detection: { consecutive_5xx: 1, max_ejection_percent: 50 }\n");
  HttpConnection client(proxy_->port());
  std::map<int, std::string> before;
  for (int user = 0; user < 30; ++user) {
    auto r = client.Request(Get("/", "Cookie: uid=" + std::to_string(user) + "\r\n"));
    ASSERT_TRUE(r);
    before[user] = Header(*r, "X-Upstream");
  }
  upstreams_[0]->set_forced_status(500);
  int eject_user = -1;
  for (const auto& [user, endpoint] : before) {
    if (endpoint == "a") eject_user = user;
  }
  ASSERT_GE(eject_user, 0);
  ASSERT_TRUE(client.Request(Get("/", "Cookie: uid=" + std::to_string(eject_user) + "\r\n")));
  for (const auto& [user, endpoint] : before) {
    auto r = client.Request(Get("/", "Cookie: uid=" + std::to_string(user) + "\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u);
    if (endpoint != "a") {
      EXPECT_EQ(Header(*r, "X-Upstream"), endpoint) << "user " << user;
    } else {
      EXPECT_NE(Header(*r, "X-Upstream"), "a");
    }
  }
}

}  // namespace
}  // namespace hermes::integration
