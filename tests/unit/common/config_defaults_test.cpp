// ApplyDefaults: each default documented in config.proto, and what it leaves alone.
#include <gtest/gtest.h>

#include "hermes/common/config.h"
#include "hermes/common/duration.h"

namespace hermes::config {
namespace {

using namespace std::chrono_literals;

v1::Config Defaulted(v1::Config config) {
  ApplyDefaults(config);
  return config;
}

v1::Config WithOneOf(const char* what) {
  v1::Config config;
  if (std::string_view(what) == "listener") config.add_listeners()->set_address(":1");
  if (std::string_view(what) == "route") config.add_routes();
  if (std::string_view(what) == "cluster") config.add_clusters()->add_endpoints();
  return Defaulted(config);
}

TEST(ConfigDefaultsTest, AddsOneListenerOnPort8080WhenThereIsNone) {
  const v1::Config config = Defaulted({});
  ASSERT_EQ(config.listeners_size(), 1);
  EXPECT_EQ(config.listeners(0).address(), ":8080");
  EXPECT_EQ(config.listeners(0).name(), "listener-0");
}

TEST(ConfigDefaultsTest, PutsAdminOnLoopbackPort8081) {
  // No admin block (a native file without one, and a managed proxy before its first push).
  EXPECT_EQ(Defaulted({}).admin().address(), "127.0.0.1:8081");
}

TEST(ConfigDefaultsTest, KeepsAnAdminAddressWrittenOutOnEveryInterface) {
  v1::Config config;
  config.mutable_admin()->set_address(":8081");
  EXPECT_EQ(Defaulted(config).admin().address(), ":8081");
}

TEST(ConfigDefaultsTest, CapsAdminConnectionsAt64) {
  EXPECT_EQ(Defaulted({}).admin().max_connections(), 64u);
}

TEST(ConfigDefaultsTest, KeepsAdminOff) {
  v1::Config config;
  config.mutable_admin()->set_address("off");
  EXPECT_EQ(Defaulted(config).admin().address(), "off");
}

TEST(ConfigDefaultsTest, FillsListenerLimitsAndTimeouts) {
  const v1::Listener listener = WithOneOf("listener").listeners(0);
  EXPECT_EQ(listener.max_connections(), 10000u);
  EXPECT_EQ(listener.max_header_bytes(), 16384u);
  EXPECT_EQ(listener.max_request_line_bytes(), 8192u);
  EXPECT_EQ(listener.max_request_body(), 10485760u);
  EXPECT_EQ(ToChrono(listener.header_timeout()), 10s);
  EXPECT_EQ(ToChrono(listener.idle_timeout()), 60s);
  EXPECT_EQ(ToChrono(listener.drain_timeout()), 30s);
}

TEST(ConfigDefaultsTest, NamesListenersAndRoutesByIndex) {
  v1::Config config;
  config.add_listeners()->set_name("public");
  config.add_listeners();
  config.add_routes();
  config.add_routes();
  config = Defaulted(config);
  EXPECT_EQ(config.listeners(0).name(), "public");
  EXPECT_EQ(config.listeners(1).name(), "listener-1");
  EXPECT_EQ(config.routes(1).name(), "route-1");
}

TEST(ConfigDefaultsTest, GivesRoutesA15SecondTimeout) {
  EXPECT_EQ(ToChrono(WithOneOf("route").routes(0).timeout()), 15s);
}

TEST(ConfigDefaultsTest, KeepsAnExplicitZeroRouteTimeout) {
  v1::Config config;
  *config.add_routes()->mutable_timeout() = ToProto(0s);
  EXPECT_EQ(ToChrono(Defaulted(config).routes(0).timeout()), 0s);
}

TEST(ConfigDefaultsTest, FillsClusterSettings) {
  const v1::Cluster cluster = WithOneOf("cluster").clusters(0);
  EXPECT_EQ(cluster.lb_policy(), v1::ROUND_ROBIN);
  EXPECT_EQ(ToChrono(cluster.connect_timeout()), 5s);
  EXPECT_EQ(ToChrono(cluster.dns_refresh()), 30s);
  EXPECT_EQ(cluster.pool().max_idle_per_endpoint(), 64u);
  EXPECT_EQ(ToChrono(cluster.pool().idle_timeout()), 60s);
}

TEST(ConfigDefaultsTest, KeepsAnExplicitPolicy) {
  v1::Config config;
  config.add_clusters()->set_lb_policy(v1::MAGLEV);
  EXPECT_EQ(Defaulted(config).clusters(0).lb_policy(), v1::MAGLEV);
}

TEST(ConfigDefaultsTest, GivesEndpointsWeightOneWhenAbsentOrZero) {
  v1::Config config;
  v1::Cluster& cluster = *config.add_clusters();
  cluster.add_endpoints();
  cluster.add_endpoints()->set_weight(0);
  cluster.add_endpoints()->set_weight(5);
  config = Defaulted(config);
  EXPECT_EQ(config.clusters(0).endpoints(0).weight(), 1u);
  EXPECT_EQ(config.clusters(0).endpoints(1).weight(), 1u);
  EXPECT_EQ(config.clusters(0).endpoints(2).weight(), 5u);
}

TEST(ConfigDefaultsTest, FillsHealthCheckEvenWhenTheBlockIsAbsent) {
  const v1::HealthCheck check = WithOneOf("cluster").clusters(0).health_check();
  EXPECT_TRUE(check.enabled());
  EXPECT_EQ(ToChrono(check.interval()), 10s);
  EXPECT_EQ(ToChrono(check.timeout()), 2s);
  EXPECT_EQ(check.path(), "/health");
  EXPECT_EQ(check.unhealthy_threshold(), 3u);
  EXPECT_EQ(check.healthy_threshold(), 2u);
}

TEST(ConfigDefaultsTest, FillsCircuitBreakerEvenWhenTheBlockIsAbsent) {
  const v1::CircuitBreaker breaker = WithOneOf("cluster").clusters(0).circuit_breaker();
  EXPECT_TRUE(breaker.enabled());
  EXPECT_EQ(breaker.failure_threshold(), 5u);
  EXPECT_EQ(breaker.success_threshold(), 3u);
  EXPECT_EQ(ToChrono(breaker.timeout()), 30s);
}

TEST(ConfigDefaultsTest, KeepsHealthCheckDisabled) {
  v1::Config config;
  config.add_clusters()->mutable_health_check()->set_enabled(false);
  const v1::HealthCheck check = Defaulted(config).clusters(0).health_check();
  EXPECT_FALSE(check.enabled());
  EXPECT_EQ(ToChrono(check.interval()), 10s);
}

TEST(ConfigDefaultsTest, IsIdempotent) {
  const v1::Config once = WithOneOf("cluster");
  EXPECT_EQ(Defaulted(once).SerializeAsString(), once.SerializeAsString());
}

}  // namespace
}  // namespace hermes::config
