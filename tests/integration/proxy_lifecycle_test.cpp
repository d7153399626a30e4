// The server's life around the requests: graceful shutdown, reloads from the config file, and
// what the admin listener reports.
#include <gtest/gtest.h>

#include <boost/json/src.hpp>  // header-only Boost.JSON, in this one test binary
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/admin/admin_server.h"
#include "tests/integration/proxy_harness.h"
#include "tests/support/eventually.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Counters are updated just after a response is written, so a client may read the response
// before they move: the tests wait for them.
using test::Eventually;

// A config file in a fresh temporary directory, removed at the end of the test.
class ConfigFile {
 public:
  ConfigFile() {
    char pattern[] = "/tmp/hermes-lifecycle-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/hermes.yaml";
  }
  ~ConfigFile() { std::filesystem::remove_all(dir_); }
  void Write(std::string_view yaml) const { std::ofstream(path_, std::ios::trunc) << yaml; }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

class ProxyLifecycleTest : public ::testing::Test {
 protected:
  void StartProxy(std::string_view routes = kDefaultRoute) {
    proxy_ = std::make_unique<Proxy>(ProxyYaml({upstream_.port()}, routes));
  }

  unsigned StatusOf(std::string_view target) {
    HttpConnection client(proxy_->port());
    auto response = client.Request(Get(target));
    return response ? response->result_int() : 0;
  }

  // One request to the admin listener over HTTP.
  std::optional<Response> Admin(std::string_view method, std::string_view path) {
    HttpConnection client(proxy_->admin_port());
    std::string request;
    request.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: admin\r\n");
    if (method == "POST") request.append("Content-Length: 0\r\n");
    request.append("\r\n");
    return client.Request(request);
  }

  json::value AdminJson(std::string_view path) {
    auto response = Admin("GET", path);
    EXPECT_TRUE(response) << path;
    if (!response) return {};
    EXPECT_EQ(response->result_int(), 200u) << path << ": " << response->body();
    error_code ec;
    json::value value = json::parse(response->body(), ec);
    EXPECT_FALSE(ec) << path << " is not JSON: " << response->body();
    return value;
  }

  test::TestUpstream upstream_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyLifecycleTest, ShutdownLetsRequestsInFlightFinish) {
  StartProxy();
  const uint16_t port = proxy_->port();
  std::vector<unsigned> statuses(3, 0);
  std::vector<std::thread> clients;
  for (unsigned& status : statuses) {
    clients.emplace_back([port, &status] {
      HttpConnection client(port);
      auto response = client.Request(Get("/delay/500"));
      status = response ? response->result_int() : 0;
    });
  }
  ASSERT_TRUE(Eventually([&] { return upstream_.requests_seen() == 3; }));
  const auto start = Clock::now();
  proxy_->Stop();  // Shutdown() then Wait()
  const auto stopped_after = Clock::now() - start;
  for (auto& client : clients) client.join();
  EXPECT_EQ(statuses, (std::vector<unsigned>{200, 200, 200}));
  EXPECT_LT(stopped_after, 3s) << "the drain should end when the last request completes";
  HttpConnection late(port, 1s);
  EXPECT_FALSE(late.connected()) << "the listener still accepts after shutdown";
}

TEST_F(ProxyLifecycleTest, ShutdownClosesIdleKeepAliveConnections) {
  StartProxy();
  HttpConnection idle(proxy_->port());
  ASSERT_TRUE(idle.Request(Get("/")));
  const auto start = Clock::now();
  proxy_->Stop();
  EXPECT_LT(Clock::now() - start, 2s) << "an idle connection held up the drain";
  EXPECT_TRUE(idle.ClosedByPeer(1s));
}

TEST_F(ProxyLifecycleTest, ReloadServesARouteAddedToTheFile) {
  ConfigFile file;
  const std::string before =
      ProxyYaml({upstream_.port()}, "  - { name: a, match: { prefix: /a }, cluster: up }\n");
  file.Write(before);
  proxy_ = std::make_unique<Proxy>(before, file.path());
  ASSERT_EQ(StatusOf("/b"), 404u);

  file.Write(ProxyYaml({upstream_.port()},
                       "  - { name: a, match: { prefix: /a }, cluster: up }\n"
                       "  - { name: b, match: { prefix: /b }, cluster: up }\n"));
  EXPECT_EQ(proxy_->server().Reload(), std::vector<std::string>{});
  EXPECT_EQ(StatusOf("/b"), 200u);
  EXPECT_EQ(StatusOf("/a"), 200u);
}

TEST_F(ProxyLifecycleTest, AReloadAppliesToTheNextRequestOfAConnectionIdleThroughIt) {
  ConfigFile file;
  const std::string before =
      ProxyYaml({upstream_.port()}, "  - { name: a, match: { prefix: /a }, cluster: up }\n");
  file.Write(before);
  proxy_ = std::make_unique<Proxy>(before, file.path());
  HttpConnection kept(proxy_->port());
  auto first = kept.Request(Get("/b"));
  ASSERT_TRUE(first);
  ASSERT_EQ(first->result_int(), 404u);

  file.Write(ProxyYaml({upstream_.port()},
                       "  - { name: a, match: { prefix: /a }, cluster: up }\n"
                       "  - { name: b, match: { prefix: /b }, cluster: up }\n"));
  ASSERT_EQ(proxy_->server().Reload(), std::vector<std::string>{});
  ASSERT_TRUE(Eventually([&] { return StatusOf("/b") == 200u; })) << "the workers have it";
  auto second = kept.Request(Get("/b"));  // the same connection, waiting while the reload ran
  ASSERT_TRUE(second);
  EXPECT_EQ(second->result_int(), 200u) << "served on the snapshot from before the wait";
}

TEST_F(ProxyLifecycleTest, InvalidFileIsRefusedAndTheRunningConfigStays) {
  ConfigFile file;
  const std::string before =
      ProxyYaml({upstream_.port()}, "  - { name: a, match: { prefix: /a }, cluster: up }\n");
  file.Write(before);
  proxy_ = std::make_unique<Proxy>(before, file.path());

  file.Write(ProxyYaml({upstream_.port()}, "  - { name: b, match: { prefix: /b }, cluster: nope }\n"));
  const auto errors = proxy_->server().Reload();
  EXPECT_FALSE(errors.empty());
  EXPECT_EQ(StatusOf("/a"), 200u);
  EXPECT_EQ(StatusOf("/b"), 404u);
}

TEST_F(ProxyLifecycleTest, AdminPostReloadAppliesTheFile) {
  ConfigFile file;
  const std::string before =
      ProxyYaml({upstream_.port()}, "  - { name: a, match: { prefix: /a }, cluster: up }\n");
  file.Write(before);
  proxy_ = std::make_unique<Proxy>(before, file.path());
  ASSERT_EQ(StatusOf("/b"), 404u);

  file.Write(ProxyYaml({upstream_.port()}, "  - { name: b, match: { prefix: /b }, cluster: up }\n"));
  auto response = Admin("POST", "/reload");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u) << response->body();
  EXPECT_EQ(StatusOf("/b"), 200u);
}

TEST_F(ProxyLifecycleTest, AdminPostReloadOfAnInvalidFileIs400AndKeepsServing) {
  ConfigFile file;
  const std::string before = ProxyYaml({upstream_.port()});
  file.Write(before);
  proxy_ = std::make_unique<Proxy>(before, file.path());

  file.Write("listeners: [ { name: main, address: \"not an address\" } ]\n");
  auto response = Admin("POST", "/reload");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 400u) << response->body();
  EXPECT_EQ(StatusOf("/"), 200u);
}

TEST_F(ProxyLifecycleTest, AdminHealthzAndReadyAre200) {
  StartProxy();
  auto healthz = Admin("GET", "/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->result_int(), 200u);
  auto ready = Admin("GET", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->result_int(), 200u);
}

TEST_F(ProxyLifecycleTest, AdminHealthReportsBackendCounts) {
  StartProxy();
  const json::value health = AdminJson("/health");
  ASSERT_TRUE(health.is_object());
  EXPECT_EQ(health.as_object().at("status"), "healthy");
  EXPECT_EQ(health.as_object().at("healthy_backends"), 1);
  EXPECT_EQ(health.as_object().at("total_backends"), 1);
}

TEST_F(ProxyLifecycleTest, AdminBackendsListsEveryEndpoint) {
  StartProxy();
  const json::value backends = AdminJson("/backends");
  ASSERT_TRUE(backends.is_array());
  ASSERT_EQ(backends.as_array().size(), 1u);
  const auto& entry = backends.as_array()[0].as_object();
  EXPECT_EQ(entry.at("address"), json::value(upstream_.address()));
  EXPECT_EQ(entry.at("healthy"), true);
  EXPECT_EQ(entry.at("connections"), 0);
  EXPECT_EQ(entry.at("weight"), 1);
}

TEST_F(ProxyLifecycleTest, AdminStatsCountsRequestsAndFailures) {
  StartProxy();
  for (const char* target : {"/", "/", "/status/404", "/status/500", "/status/503"}) StatusOf(target);
  json::value stats;
  const bool counted = Eventually([&] {
    stats = AdminJson("/stats");
    return stats.is_object() && stats.as_object().at("total_requests") == 5;
  });
  EXPECT_TRUE(counted) << json::serialize(stats);
  EXPECT_EQ(stats.as_object().at("total_requests"), 5);
  EXPECT_EQ(stats.as_object().at("failed_requests"), 2);
}

TEST_F(ProxyLifecycleTest, AdminCircuitsMapsEachEndpointToClosed) {
  StartProxy();
  const json::value circuits = AdminJson("/circuits");
  ASSERT_TRUE(circuits.is_object());
  EXPECT_EQ(circuits.as_object().size(), 1u);
  EXPECT_EQ(circuits.as_object().at(upstream_.address()), "CLOSED");
}

TEST_F(ProxyLifecycleTest, AdminMetricsCountsClusterRequestsByClass) {
  StartProxy();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(StatusOf("/"), 200u);
  ASSERT_EQ(StatusOf("/status/503"), 503u);
  const std::string ok_line = "hermes_cluster_requests_total{cluster=\"up\",class=\"2xx\"} 4\n";
  const std::string failed_line = "hermes_cluster_requests_total{cluster=\"up\",class=\"5xx\"} 1\n";
  std::string body;
  const bool counted = Eventually([&] {
    auto response = Admin("GET", "/metrics");
    body = response ? response->body() : "";
    return body.find(failed_line) != std::string::npos;
  });
  EXPECT_TRUE(counted) << body;
  EXPECT_NE(body.find(ok_line), std::string::npos) << body;
}

TEST_F(ProxyLifecycleTest, RenderedMetricsMatchTheHttpAdminEndpoint) {
  StartProxy();
  ASSERT_EQ(StatusOf("/"), 200u);
  ASSERT_TRUE(Eventually([&] {
    const auto rendered = dataplane::RenderAdmin(proxy_->server(), {.method = "GET", .path = "/metrics"});
    return rendered.body.find("hermes_cluster_requests_total{cluster=\"up\",class=\"2xx\"} 1\n") !=
           std::string::npos;
  }));
  const auto rendered = dataplane::RenderAdmin(proxy_->server(), {.method = "GET", .path = "/metrics"});
  EXPECT_EQ(rendered.status, 200u);
  EXPECT_TRUE(rendered.content_type.starts_with("text/plain")) << rendered.content_type;
}

TEST_F(ProxyLifecycleTest, AdminConfigIsJsonOfTheRunningConfig) {
  StartProxy();
  const json::value config = AdminJson("/config");
  ASSERT_TRUE(config.is_object());
  const auto& clusters = config.as_object().at("clusters").as_array();
  ASSERT_EQ(clusters.size(), 1u);
  EXPECT_EQ(clusters[0].as_object().at("name"), "up");
}

TEST_F(ProxyLifecycleTest, AdminUnknownPathIs404) {
  StartProxy();
  auto response = Admin("GET", "/nope");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 404u);
}

}  // namespace
}  // namespace hermes::integration
