// hermesctl drain NODE, the proxy's side: a managed proxy (Server and DiscoveryClient) on a real
// gRPC stream to an in-process DiscoveryServer gets the drain command, closes its listeners,
// lets its connections finish and reports its progress, which DiscoveryServer::Proxies() shows.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "controlplane/discovery/discovery_server.h"
#include "dataplane/discovery/discovery_client.h"
#include "tests/integration/proxy_harness.h"
#include "tests/support/eventually.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

using Drain = controlplane::StreamStatus::Drain;
using Clock = std::chrono::steady_clock;

constexpr const char* kNode = "p1";

using test::Eventually;

// A long idle timeout, so that only the drain can close an idle connection within the tests.
// `more_listeners` and `more_routes`: YAML items appended to each list.
std::string DrainYaml(uint16_t upstream_port, const std::string& main_address = "127.0.0.1:0",
                      const std::string& more_listeners = "", const std::string& more_routes = "") {
  std::string yaml = "listeners:\n  - { name: main, address: \"" + main_address +
                     "\", idle_timeout: 30s, drain_timeout: 5s }\n" + more_listeners;
  yaml += "admin: { address: \"127.0.0.1:0\" }\n";
  yaml += "clusters:\n  - name: up\n    health_check: { enabled: false }\n";
  yaml += "    endpoints: [ { address: \"127.0.0.1:" + std::to_string(upstream_port) + "\" } ]\n";
  yaml += "routes:\n" + more_routes + "  - { name: all, cluster: up }\n";
  return yaml;
}

std::string ListenerItem(const std::string& name, uint16_t port) {
  return "  - { name: " + name + ", address: \"127.0.0.1:" + std::to_string(port) + "\" }\n";
}

// Two ports on 127.0.0.1 that nobody listens on.
std::pair<uint16_t, uint16_t> TwoUnusedPorts() {
  uint16_t a = UnusedPort(), b = UnusedPort();
  while (b == a) b = UnusedPort();
  return {a, b};
}

// True when a connection to 127.0.0.1:port is refused (nobody listens).
bool Refused(uint16_t port) {
  HttpConnection client(port, 2s);
  return !client.connected() && client.last_error() == asio::error::connection_refused;
}

class ProxyDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/hermes-drain-XXXXXX";
    cache_dir_ = mkdtemp(pattern);
    StartControlPlane(0);
    config_ = LoadOrFail(DrainYaml(upstream_.port()));
    discovery_->Publish(1, config_);

    dataplane::ServerOptions options;
    options.workers = 2;  // two SO_REUSEPORT acceptors per listener: the drain closes both
    options.central_health = true;
    server_ = std::make_unique<dataplane::Server>(options);
    ASSERT_TRUE(server_->Start(config_).empty());
    port_ = server_->ListenerPort("main");
    ASSERT_NE(port_, 0);

    dataplane::DiscoveryClientOptions client_options;
    client_options.server = "127.0.0.1:" + std::to_string(grpc_port_);
    client_options.node.set_id(kNode);
    client_options.cache_dir = cache_dir_;
    client_options.backoff_base = 50ms;
    client_options.backoff_max = 200ms;
    // What hermes' main wires: the pushed config with defaults, validated, then applied.
    auto apply = [this](const v1::Config& pushed, const discovery::UnhealthyEndpoints& unhealthy) {
      v1::Config config = pushed;
      config::ApplyDefaults(config);
      std::vector<std::string> errors;
      for (const auto& e : config::Validate(config)) errors.push_back(e.ToString());
      if (errors.empty()) errors = server_->Apply(config, unhealthy);
      return errors;
    };
    dataplane::DrainHooks drain{[this] { server_->Drain(); }, [this] { return server_->drained(); },
                                [this] { return server_->ActiveConnections(); }};
    client_ = std::make_unique<dataplane::DiscoveryClient>(client_options, apply, drain);
    client_->Start();
    ASSERT_TRUE(Eventually([&] {
      auto s = Status();
      return s && s->in_sync && s->running_version == 1;
    })) << "the proxy never synced with the control plane";
  }

  void TearDown() override {
    if (client_) client_->Stop();
    if (server_) {
      server_->Shutdown();
      server_->Wait();
    }
    StopControlPlane();
    std::filesystem::remove_all(cache_dir_);
  }

  void StartControlPlane(int port) {
    discovery_ = std::make_unique<controlplane::DiscoveryServer>(nullptr, wall_clock_, "");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &grpc_port_);
    builder.RegisterService(discovery_.get());
    grpc_ = builder.BuildAndStart();
    ASSERT_TRUE(grpc_);
    ASSERT_NE(grpc_port_, 0);
  }

  void StopControlPlane() {
    if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + 1s);
    grpc_.reset();
    discovery_.reset();
  }

  // The control plane's view of the connected proxy.
  std::optional<controlplane::StreamStatus> Status() {
    for (auto& s : discovery_->Proxies())
      if (s.node.id() == kNode && s.connected) return s;
    return std::nullopt;
  }

  bool Reported(Drain drain, int64_t active_connections) {
    return Eventually([&] {
      auto s = Status();
      return s && s->drain == drain && s->active_connections == active_connections;
    });
  }

  std::optional<Response> Admin(std::string_view path) {
    HttpConnection client(server_->AdminPort());
    return client.Request(Get(path));
  }

  test::TestUpstream upstream_;
  std::string cache_dir_;
  SystemClock wall_clock_;
  std::unique_ptr<controlplane::DiscoveryServer> discovery_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  v1::Config config_;
  std::unique_ptr<dataplane::Server> server_;
  std::unique_ptr<dataplane::DiscoveryClient> client_;
  uint16_t port_ = 0;
};

TEST_F(ProxyDrainTest, TheRequestInFlightCompletesAndNewConnectionsAreRefused) {
  HttpConnection in_flight(port_);
  ASSERT_TRUE(in_flight.Send(Get("/delay/2500")));
  ASSERT_TRUE(Eventually([&] { return upstream_.requests_seen() == 1; }));

  ASSERT_TRUE(discovery_->Drain(kNode));
  ASSERT_TRUE(Reported(Drain::kDraining, 1)) << "the proxy's first report names its connection";
  // Several attempts: the kernel spreads connections over both workers' acceptors.
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Refused(port_)) << "attempt " << i;

  auto response = in_flight.Read();
  ASSERT_TRUE(response) << in_flight.last_error().message();
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(response->body(), "delayed\n");
  EXPECT_FALSE(response->keep_alive()) << "a draining proxy says it closes";
  EXPECT_TRUE(in_flight.ClosedByPeer(2s));
  EXPECT_TRUE(Reported(Drain::kDrained, 0));
  EXPECT_TRUE(server_->drained());
  EXPECT_TRUE(client_->connected()) << "the drain keeps the discovery stream";
}

TEST_F(ProxyDrainTest, AnIdleKeepAliveConnectionIsClosed) {
  HttpConnection idle(port_);
  auto response = idle.Request(Get("/"));
  ASSERT_TRUE(response);
  ASSERT_TRUE(response->keep_alive());

  ASSERT_TRUE(discovery_->Drain(kNode));
  EXPECT_TRUE(idle.ClosedByPeer(3s)) << "the idle timeout is 30 s: only the drain closes it";
  EXPECT_TRUE(Reported(Drain::kDrained, 0));
}

TEST_F(ProxyDrainTest, AConfigPushedAfterTheDrainIsAppliedButOpensNoListener) {
  ASSERT_TRUE(discovery_->Drain(kNode));
  ASSERT_TRUE(Reported(Drain::kDrained, 0));
  ASSERT_TRUE(discovery_->Drain(kNode)) << "a second command";
  EXPECT_TRUE(Reported(Drain::kDrained, 0));

  // The listener moves to a port of its own and a second one is added: both would open if the
  // drain did not hold.
  const auto [moved, added] = TwoUnusedPorts();
  v1::Config changed = LoadOrFail(DrainYaml(
      upstream_.port(), "127.0.0.1:" + std::to_string(moved), ListenerItem("added", added),
      "  - { name: v2, match: { prefix: /v2 }, cluster: up }\n"));
  discovery_->Publish(2, changed);
  ASSERT_TRUE(Eventually([&] {
    auto s = Status();
    return s && s->in_sync && s->running_version == 2 && !s->last_nack;
  })) << "the proxy ACKs the config";
  EXPECT_EQ(server_->snapshot()->config.routes_size(), 2) << "the rest of the config applies";
  EXPECT_EQ(server_->snapshot()->config.listeners_size(), 2);
  EXPECT_TRUE(Refused(moved));
  EXPECT_TRUE(Refused(added));
  EXPECT_TRUE(Refused(port_));
  EXPECT_EQ(Status()->drain, Drain::kDrained);
}

TEST_F(ProxyDrainTest, AReconnectedStreamReportsTheDrainRightAway) {
  ASSERT_TRUE(discovery_->Drain(kNode));
  ASSERT_TRUE(Reported(Drain::kDrained, 0));

  // A restarted control plane on the same port knows nothing of the drain but what the proxy
  // reports on its new stream.
  const int port = grpc_port_;
  StopControlPlane();
  StartControlPlane(port);
  discovery_->Publish(1, config_);
  EXPECT_TRUE(Reported(Drain::kDrained, 0));
  EXPECT_TRUE(Refused(port_));
}

TEST_F(ProxyDrainTest, TheAdminListenerStaysUpAndShowsTheDrain) {
  auto before = Admin("/drain");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->body(), "{\"state\":\"serving\",\"active_connections\":0}\n");

  ASSERT_TRUE(discovery_->Drain(kNode));
  ASSERT_TRUE(Reported(Drain::kDrained, 0));
  auto after = Admin("/drain");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body(), "{\"state\":\"drained\",\"active_connections\":0}\n");
  auto ready = Admin("/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->result_int(), 503u) << "a load balancer in front stops sending";
  EXPECT_EQ(ready->body(), "draining\n");
}

TEST_F(ProxyDrainTest, DrainOfAnUnknownNodeReturnsFalseAndChangesNothing) {
  EXPECT_FALSE(discovery_->Drain("no-such-node"));
  EXPECT_EQ(Status()->drain, Drain::kServing);
  HttpConnection client(port_);
  auto response = client.Request(Get("/"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_FALSE(server_->draining());
}

// The same drain without a control plane: a reload of the file (SIGHUP) opens no listener.
TEST(ServerDrainTest, AReloadAfterTheDrainOpensNoListener) {
  test::TestUpstream upstream;
  char pattern[] = "/tmp/hermes-drain-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  const std::string path = dir + "/hermes.yaml";
  {
    Proxy proxy(DrainYaml(upstream.port()), path);
    const uint16_t port = proxy.port();
    proxy.server().Drain();
    EXPECT_TRUE(proxy.server().draining());
    EXPECT_TRUE(Refused(port)) << "Drain() returns once the acceptors are closed";

    const auto [moved, added] = TwoUnusedPorts();
    std::ofstream(path) << DrainYaml(upstream.port(), "127.0.0.1:" + std::to_string(moved),
                                     ListenerItem("added", added));
    EXPECT_TRUE(proxy.server().Reload().empty());
    EXPECT_EQ(proxy.server().snapshot()->config.listeners_size(), 2);
    EXPECT_TRUE(Refused(moved));
    EXPECT_TRUE(Refused(added));
    EXPECT_TRUE(Refused(port));
    EXPECT_TRUE(Eventually([&] { return proxy.server().drained(); }));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hermes::integration
