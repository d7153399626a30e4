// Validate: each rule, reported with the field path and a message saying what is expected.
#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "hermes/common/config.h"
#include "hermes/common/duration.h"

namespace hermes::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A small valid config, with defaults applied, for each test to break in one place.
v1::Config ValidConfig() {
  v1::Config config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        listeners { address: ":8080" }
        routes {
          match { prefix: "/" }
          cluster: "web"
        }
        clusters {
          name: "web"
          endpoints { address: "127.0.0.1:9001" }
          endpoints { address: "backend-2.internal:9002" }
        }
      )pb",
      &config));
  ApplyDefaults(config);
  return config;
}

std::vector<std::string> ErrorsOf(const v1::Config& config) {
  std::vector<std::string> errors;
  for (const ConfigError& error : Validate(config)) {
    EXPECT_EQ(error.location, "");
    errors.push_back(error.ToString());
  }
  return errors;
}

TEST(ConfigValidateTest, AcceptsDefaultedConfig) {
  EXPECT_THAT(ErrorsOf(ValidConfig()), IsEmpty());
}

TEST(ConfigValidateTest, AcceptsConfigWithNoRoutesOrClusters) {
  v1::Config config;
  ApplyDefaults(config);
  EXPECT_THAT(ErrorsOf(config), IsEmpty());
}

TEST(ConfigValidateTest, ListenerAddressMustParse) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_address("localhost");
  EXPECT_THAT(ErrorsOf(config), ElementsAre("listeners[0].address: \"localhost\" is missing a port "
                                            "(expected host:port, :port or [v6]:port)"));
}

TEST(ConfigValidateTest, ListenerAddressPortMustBeInRange) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_address(":70000");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("listeners[0].address: \":70000\" is not a valid address: port out of "
                          "range (0-65535) (expected host:port, :port or [v6]:port)"));
}

TEST(ConfigValidateTest, ListenerAddressMustBeSet) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->clear_address();
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("listeners[0].address: must be set (expected host:port, :port or "
                          "[v6]:port)"));
}

TEST(ConfigValidateTest, ListenerAddressesMustBeUnique) {
  v1::Config config = ValidConfig();
  config.add_listeners()->set_address(":9000");
  config.add_listeners()->set_address(":8080");
  ApplyDefaults(config);
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("listeners[2].address: \":8080\" is already used by listeners[0]"));
}

TEST(ConfigValidateTest, ListenersOnPortZeroDoNotCollide) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_address("127.0.0.1:0");
  config.add_listeners()->set_address("127.0.0.1:0");
  ApplyDefaults(config);
  EXPECT_THAT(ErrorsOf(config), IsEmpty());
}

TEST(ConfigValidateTest, ListenerNamesMustBeUnique) {
  v1::Config config = ValidConfig();
  v1::Listener& second = *config.add_listeners();
  second.set_name("listener-0");
  second.set_address(":9000");
  ApplyDefaults(config);
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("listeners[1].name: duplicate listener name \"listener-0\" (also "
                          "listeners[0])"));
}

TEST(ConfigValidateTest, AdminAddressMustParse) {
  v1::Config config = ValidConfig();
  config.mutable_admin()->set_address("admin");
  EXPECT_THAT(ErrorsOf(config), ElementsAre("admin.address: \"admin\" is missing a port (expected "
                                            "host:port, :port or [v6]:port)"));
}

TEST(ConfigValidateTest, AdminMayBeOff) {
  v1::Config config = ValidConfig();
  config.mutable_admin()->set_address("off");
  EXPECT_THAT(ErrorsOf(config), IsEmpty());
}

TEST(ConfigValidateTest, AdminMustNotShareAListenerAddress) {
  v1::Config config = ValidConfig();
  config.mutable_admin()->set_address(":8080");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("admin.address: \":8080\" is also the address of listener "
                          "\"listener-0\" (use another port, or \"off\")"));
}

TEST(ConfigValidateTest, HeaderLimitsMustBePositive) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_max_header_bytes(0);
  config.mutable_listeners(0)->set_max_request_line_bytes(0);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("listeners[0].max_header_bytes: must be > 0",
                                            "listeners[0].max_request_line_bytes: must be > 0"));
}

TEST(ConfigValidateTest, RequestLineLimitMustFitInHeaderLimit) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_max_header_bytes(4096);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("listeners[0].max_request_line_bytes: 8192 must be <= "
                                            "max_header_bytes (4096)"));
}

TEST(ConfigValidateTest, MaxConnectionsMustBePositive) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_max_connections(0);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("listeners[0].max_connections: must be > 0"));
}

TEST(ConfigValidateTest, MaxRequestBodyZeroMeansNoCap) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_max_request_body(0);
  EXPECT_THAT(ErrorsOf(config), IsEmpty());
}

TEST(ConfigValidateTest, ListenerTimeoutsMustBePositive) {
  v1::Config config = ValidConfig();
  *config.mutable_listeners(0)->mutable_header_timeout() = ToProto(0s);
  *config.mutable_listeners(0)->mutable_idle_timeout() = ToProto(-1s);
  *config.mutable_listeners(0)->mutable_drain_timeout() = ToProto(0s);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("listeners[0].header_timeout: must be > 0 (got 0s)",
                                            "listeners[0].idle_timeout: must be > 0 (got -1s)",
                                            "listeners[0].drain_timeout: must be > 0 (got 0s)"));
}

TEST(ConfigValidateTest, RouteClusterMustExist) {
  v1::Config config = ValidConfig();
  config.mutable_routes(0)->set_cluster("api");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("routes[0].cluster: no cluster named \"api\" (defined: web)"));
}

TEST(ConfigValidateTest, RouteClusterMustBeSet) {
  v1::Config config = ValidConfig();
  config.mutable_routes(0)->clear_cluster();
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("routes[0].cluster: must be set (expected the name of a cluster)"));
}

TEST(ConfigValidateTest, RouteNamesMustBeUnique) {
  v1::Config config = ValidConfig();
  *config.add_routes() = config.routes(0);
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("routes[1].name: duplicate route name \"route-0\" (also routes[0])"));
}

TEST(ConfigValidateTest, RouteTimeoutZeroMeansNone) {
  v1::Config config = ValidConfig();
  *config.mutable_routes(0)->mutable_timeout() = ToProto(0s);
  EXPECT_THAT(ErrorsOf(config), IsEmpty());
}

TEST(ConfigValidateTest, RouteTimeoutMustNotBeNegative) {
  v1::Config config = ValidConfig();
  *config.mutable_routes(0)->mutable_timeout() = ToProto(-2s);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("routes[0].timeout: must be >= 0 (got -2s)"));
}

TEST(ConfigValidateTest, MatchPrefixMustStartWithSlash) {
  v1::Config config = ValidConfig();
  config.mutable_routes(0)->mutable_match()->set_prefix("api");
  EXPECT_THAT(ErrorsOf(config), ElementsAre("routes[0].match.prefix: \"api\" must start with '/'"));
}

TEST(ConfigValidateTest, MatchPathMustStartWithSlash) {
  v1::Config config = ValidConfig();
  config.mutable_routes(0)->mutable_match()->clear_prefix();
  config.mutable_routes(0)->mutable_match()->set_path("health");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("routes[0].match.path: \"health\" must start with '/'"));
}

TEST(ConfigValidateTest, MatchPrefixAndPathAreExclusive) {
  v1::Config config = ValidConfig();
  config.mutable_routes(0)->mutable_match()->set_path("/health");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("routes[0].match: set either prefix or path, not both"));
}

TEST(ConfigValidateTest, MatchHostAcceptsExactNamesAndSubdomainWildcards) {
  for (const char* host : {"api.example.com", "*.example.com", "localhost", "10.0.0.1"}) {
    v1::Config config = ValidConfig();
    config.mutable_routes(0)->mutable_match()->set_host(host);
    EXPECT_THAT(ErrorsOf(config), IsEmpty()) << host;
  }
}

TEST(ConfigValidateTest, MatchHostRejectsOtherPatterns) {
  for (const char* host : {"*example.com", "api.*.com", "*.", "a b", "api..com", "api.com:80"}) {
    v1::Config config = ValidConfig();
    config.mutable_routes(0)->mutable_match()->set_host(host);
    EXPECT_THAT(ErrorsOf(config),
                ElementsAre("routes[0].match.host: \"" + std::string(host) +
                            "\" is not a host pattern (expected a host name such as "
                            "\"api.example.com\" or \"*.example.com\")"));
  }
}

TEST(ConfigValidateTest, AddedHeaderNamesMustBeTokens) {
  v1::Config config = ValidConfig();
  config.mutable_routes(0)->add_request_headers_to_add()->set_name("X-Ok");
  config.mutable_routes(0)->add_request_headers_to_add()->set_name("Bad Name");
  config.mutable_routes(0)->add_response_headers_to_add()->set_name("");
  EXPECT_THAT(
      ErrorsOf(config),
      ElementsAre("routes[0].request_headers_to_add[1].name: \"Bad Name\" is not a valid header "
                  "name (expected letters, digits and !#$%&'*+-.^_`|~)",
                  "routes[0].response_headers_to_add[0].name: must not be empty (expected a "
                  "header name)"));
}

TEST(ConfigValidateTest, AddedHeaderValuesMustNotContainLineBreaksOrNul) {
  for (const std::string& value :
       {std::string("a\r\nX-Injected: 1"), std::string("a\nb"), std::string("a\0b", 3)}) {
    v1::Config config = ValidConfig();
    v1::Header& header = *config.mutable_routes(0)->add_response_headers_to_add();
    header.set_name("X-Test");
    header.set_value(value);
    EXPECT_THAT(ErrorsOf(config), ElementsAre("routes[0].response_headers_to_add[0].value: must "
                                              "not contain CR, LF or NUL characters"));
  }
}

TEST(ConfigValidateTest, RemovedHeaderNamesMustBeTokens) {
  v1::Config config = ValidConfig();
  config.mutable_routes(0)->add_request_headers_to_remove("X-Ok");
  config.mutable_routes(0)->add_response_headers_to_remove("Server:");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("routes[0].response_headers_to_remove[0]: \"Server:\" is not a valid "
                          "header name (expected letters, digits and !#$%&'*+-.^_`|~)"));
}

TEST(ConfigValidateTest, ClusterNameMustBeSet) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->clear_name();
  config.mutable_routes()->Clear();
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].name: must not be empty"));
}

TEST(ConfigValidateTest, ClusterNameMayUseOnlyNameCharacters) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->set_name("web/1");
  config.mutable_routes(0)->set_cluster("web/1");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[0].name: \"web/1\" is not a valid cluster name (expected "
                          "letters, digits, '.', '_' and '-')"));
}

TEST(ConfigValidateTest, ClusterNamesMustBeUnique) {
  v1::Config config = ValidConfig();
  *config.add_clusters() = config.clusters(0);
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[1].name: duplicate cluster name \"web\" (also clusters[0])"));
}

TEST(ConfigValidateTest, ClusterNeedsAnEndpoint) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->clear_endpoints();
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[0].endpoints: must have at least one endpoint"));
}

TEST(ConfigValidateTest, EndpointAddressNeedsAPort) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_endpoints(1)->set_address("localhost");
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].endpoints[1].address: \"localhost\" is "
                                            "missing a port (expected host:port)"));
}

TEST(ConfigValidateTest, EndpointAddressNeedsAHost) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_endpoints(0)->set_address(":9001");
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].endpoints[0].address: \":9001\" is "
                                            "missing a host (expected host:port)"));
}

TEST(ConfigValidateTest, EndpointPortMustNotBeZero) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_endpoints(0)->set_address("127.0.0.1:0");
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].endpoints[0].address: \"127.0.0.1:0\" "
                                            "has port 0 (expected a port 1-65535)"));
}

TEST(ConfigValidateTest, EndpointHostMustBeANameOrAnAddress) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_endpoints(0)->set_address("back_end:80");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[0].endpoints[0].address: \"back_end:80\" is not a valid "
                          "address: invalid host \"back_end\" (expected host:port)"));
}

TEST(ConfigValidateTest, EndpointMayBeBracketedIpv6) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_endpoints(0)->set_address("[::1]:9001");
  EXPECT_THAT(ErrorsOf(config), IsEmpty());
}

TEST(ConfigValidateTest, EndpointsMustBeUniqueWithinACluster) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->add_endpoints()->set_address("Backend-2.internal:9002");
  ApplyDefaults(config);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].endpoints[2].address: "
                                            "\"Backend-2.internal:9002\" is listed twice (also "
                                            "endpoints[1])"));
}

TEST(ConfigValidateTest, SameEndpointMayServeTwoClusters) {
  v1::Config config = ValidConfig();
  v1::Cluster& api = *config.add_clusters();
  api.set_name("api");
  api.add_endpoints()->set_address("127.0.0.1:9001");
  ApplyDefaults(config);
  EXPECT_THAT(ErrorsOf(config), IsEmpty());
}

TEST(ConfigValidateTest, ClusterTimeoutsMustBePositive) {
  v1::Config config = ValidConfig();
  *config.mutable_clusters(0)->mutable_connect_timeout() = ToProto(0s);
  *config.mutable_clusters(0)->mutable_dns_refresh() = ToProto(0s);
  *config.mutable_clusters(0)->mutable_pool()->mutable_idle_timeout() = ToProto(0s);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].connect_timeout: must be > 0 (got 0s)",
                                            "clusters[0].dns_refresh: must be > 0 (got 0s)",
                                            "clusters[0].pool.idle_timeout: must be > 0 (got 0s)"));
}

TEST(ConfigValidateTest, LbPolicyMustBeAKnownValue) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->set_lb_policy(static_cast<v1::LbPolicy>(42));
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].lb_policy: unknown value 42"));
}

TEST(ConfigValidateTest, HealthCheckIntervalAndTimeoutMustBePositive) {
  v1::Config config = ValidConfig();
  *config.mutable_clusters(0)->mutable_health_check()->mutable_interval() = ToProto(0s);
  *config.mutable_clusters(0)->mutable_health_check()->mutable_timeout() = ToProto(0s);
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[0].health_check.interval: must be > 0 (got 0s)",
                          "clusters[0].health_check.timeout: must be > 0 (got 0s)"));
}

TEST(ConfigValidateTest, HealthCheckTimeoutMustNotExceedInterval) {
  v1::Config config = ValidConfig();
  *config.mutable_clusters(0)->mutable_health_check()->mutable_timeout() = ToProto(10500ms);
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].health_check.timeout: 10.5s must be <= "
                                            "interval (10s)"));
}

TEST(ConfigValidateTest, HealthCheckThresholdsMustBeAtLeastOne) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_health_check()->set_unhealthy_threshold(0);
  config.mutable_clusters(0)->mutable_health_check()->set_healthy_threshold(0);
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[0].health_check.unhealthy_threshold: must be >= 1 (got 0)",
                          "clusters[0].health_check.healthy_threshold: must be >= 1 (got 0)"));
}

TEST(ConfigValidateTest, HealthCheckPathMustStartWithSlash) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_health_check()->set_path("health");
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[0].health_check.path: \"health\" must start with '/'"));
}

TEST(ConfigValidateTest, HealthCheckPathMustNotContainSpaces) {
  v1::Config config = ValidConfig();
  config.mutable_clusters(0)->mutable_health_check()->set_path("/health check");
  EXPECT_THAT(ErrorsOf(config), ElementsAre("clusters[0].health_check.path: \"/health check\" must "
                                            "not contain spaces or control characters"));
}

TEST(ConfigValidateTest, CircuitBreakerThresholdsAndTimeoutMustBePositive) {
  v1::Config config = ValidConfig();
  v1::CircuitBreaker& breaker = *config.mutable_clusters(0)->mutable_circuit_breaker();
  breaker.set_failure_threshold(0);
  breaker.set_success_threshold(0);
  *breaker.mutable_timeout() = ToProto(0s);
  EXPECT_THAT(ErrorsOf(config),
              ElementsAre("clusters[0].circuit_breaker.failure_threshold: must be >= 1 (got 0)",
                          "clusters[0].circuit_breaker.success_threshold: must be >= 1 (got 0)",
                          "clusters[0].circuit_breaker.timeout: must be > 0 (got 0s)"));
}

TEST(ConfigValidateTest, ReportsEveryErrorNotOnlyTheFirst) {
  v1::Config config = ValidConfig();
  config.mutable_listeners(0)->set_address("nope");
  config.mutable_routes(0)->set_cluster("missing");
  config.mutable_clusters(0)->mutable_endpoints(0)->set_address("x");
  config.mutable_clusters(0)->mutable_health_check()->set_path("bad");
  const std::vector<ConfigError> errors = Validate(config);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].path, "listeners[0].address");
  EXPECT_EQ(errors[1].path, "routes[0].cluster");
  EXPECT_EQ(errors[2].path, "clusters[0].endpoints[0].address");
  EXPECT_EQ(errors[3].path, "clusters[0].health_check.path");
}

}  // namespace
}  // namespace hermes::config
