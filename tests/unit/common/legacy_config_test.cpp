// The original Hermes config format: read, translated into hermes.v1.Config, defaulted, validated.
#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "hermes/common/config.h"

namespace hermes::config {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kOriginalFile = R"(
server: { listen: ":8080", admin_listen: ":8081" }
backends: [ { address: "localhost:9001", weight: 1 }, { address: "localhost:9002", weight: 1 } ]
load_balancing: { algorithm: "round-robin" }   # or "least-connections"
health_check: { enabled: true, interval: 10s, timeout: 2s, path: "/health", unhealthy_threshold: 3, healthy_threshold: 2 }
circuit_breaker: { enabled: true, failure_threshold: 5, success_threshold: 3, timeout: 30s }
buffer: { max_request_body: 10485760 }
)";

v1::Config LoadValid(std::string_view yaml) {
  LoadResult result = LoadConfigString(yaml, "test.yaml");
  EXPECT_THAT(result.errors, IsEmpty()) << (result.ok() ? "" : result.errors[0].ToString());
  EXPECT_EQ(result.format, SourceFormat::kLegacy);
  return result.config;
}

std::vector<std::string> ErrorsOf(std::string_view yaml) {
  std::vector<std::string> errors;
  for (const ConfigError& error : LoadConfigString(yaml, "test.yaml").errors) {
    errors.push_back(error.ToString());
  }
  return errors;
}

v1::Config WithDefaults(std::string_view text_proto) {
  v1::Config config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(std::string(text_proto), &config));
  ApplyDefaults(config);
  return config;
}

TEST(LegacyConfigTest, OriginalFileMeansOneListenerClusterAndRoute) {
  const v1::Config expected = WithDefaults(R"pb(
    listeners { name: "default" address: ":8080" max_request_body: 10485760 }
    admin { address: ":8081" }
    routes {
      name: "default"
      match { prefix: "/" }
      cluster: "default"
    }
    clusters {
      name: "default"
      endpoints { address: "localhost:9001" weight: 1 }
      endpoints { address: "localhost:9002" weight: 1 }
      lb_policy: ROUND_ROBIN
      health_check {
        enabled: true
        interval { seconds: 10 }
        timeout { seconds: 2 }
        path: "/health"
        unhealthy_threshold: 3
        healthy_threshold: 2
      }
      circuit_breaker {
        enabled: true
        failure_threshold: 5
        success_threshold: 3
        timeout { seconds: 30 }
      }
    }
  )pb");
  const v1::Config loaded = LoadValid(kOriginalFile);
  std::string difference;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(expected, loaded)) << difference;
}

TEST(LegacyConfigTest, OriginalFileTakesNativeDefaultsForWhatItCannotSay) {
  const v1::Config config = LoadValid(kOriginalFile);
  EXPECT_EQ(config.listeners(0).header_timeout().seconds(), 10);
  EXPECT_EQ(config.listeners(0).max_header_bytes(), 16384u);
  EXPECT_EQ(config.routes(0).timeout().seconds(), 15);
  EXPECT_EQ(config.clusters(0).connect_timeout().seconds(), 5);
}

TEST(LegacyConfigTest, ListenDefaultsToPort8080) {
  const v1::Config config = LoadValid("backends: [ { address: \"localhost:9001\" } ]");
  ASSERT_EQ(config.listeners_size(), 1);
  EXPECT_EQ(config.listeners(0).name(), "default");
  EXPECT_EQ(config.listeners(0).address(), ":8080");
}

TEST(LegacyConfigTest, AdminListenDefaultsToLoopbackPort8081) {
  const v1::Config config =
      LoadValid("server: { listen: \":7000\" }\nbackends: [ { address: \"localhost:9001\" } ]");
  EXPECT_EQ(config.listeners(0).address(), ":7000");
  EXPECT_EQ(config.admin().address(), "127.0.0.1:8081");
}

TEST(LegacyConfigTest, AdminListenWrittenOutKeepsEveryInterface) {
  // The original format's example writes admin_listen: ":8081"; it keeps its meaning.
  const v1::Config config =
      LoadValid("server: { admin_listen: \":8081\" }\nbackends: [ { address: \"localhost:9001\" } ]");
  EXPECT_EQ(config.admin().address(), ":8081");
}

TEST(LegacyConfigTest, AdminListenBecomesAdminAddress) {
  const v1::Config config =
      LoadValid("server: { admin_listen: \"127.0.0.1:9901\" }\nbackends: [ { address: \"b:1\" } ]");
  EXPECT_EQ(config.admin().address(), "127.0.0.1:9901");
}

TEST(LegacyConfigTest, MaxRequestBodyDefaultsTo10MiB) {
  const v1::Config config = LoadValid("backends: [ { address: \"b:1\" } ]");
  EXPECT_EQ(config.listeners(0).max_request_body(), 10485760u);
}

TEST(LegacyConfigTest, MaxRequestBodyZeroStaysZeroForNoCap) {
  const v1::Config config =
      LoadValid("backends: [ { address: \"b:1\" } ]\nbuffer: { max_request_body: 0 }");
  EXPECT_TRUE(config.listeners(0).has_max_request_body());
  EXPECT_EQ(config.listeners(0).max_request_body(), 0u);
}

TEST(LegacyConfigTest, AlgorithmDefaultsToRoundRobin) {
  const v1::Config config = LoadValid("backends: [ { address: \"b:1\" } ]");
  EXPECT_EQ(config.clusters(0).lb_policy(), v1::ROUND_ROBIN);
}

TEST(LegacyConfigTest, LeastConnectionsMeansLeastRequest) {
  const v1::Config config = LoadValid(
      "backends: [ { address: \"b:1\" } ]\nload_balancing: { algorithm: least-connections }");
  EXPECT_EQ(config.clusters(0).lb_policy(), v1::LEAST_REQUEST);
}

TEST(LegacyConfigTest, UnknownAlgorithmListsTheTwoAcceptedOnes) {
  EXPECT_THAT(
      ErrorsOf("backends: [ { address: \"b:1\" } ]\nload_balancing: { algorithm: random }"),
      ::testing::ElementsAre("test.yaml:2:30: load_balancing.algorithm: unknown algorithm "
                             "\"random\" (expected \"round-robin\" or \"least-connections\")"));
}

TEST(LegacyConfigTest, HealthCheckTakesEveryDefaultWhenLeftOut) {
  const v1::HealthCheck check =
      LoadValid("backends: [ { address: \"b:1\" } ]").clusters(0).health_check();
  EXPECT_TRUE(check.enabled());
  EXPECT_EQ(check.interval().seconds(), 10);
  EXPECT_EQ(check.timeout().seconds(), 2);
  EXPECT_EQ(check.path(), "/health");
  EXPECT_EQ(check.unhealthy_threshold(), 3u);
  EXPECT_EQ(check.healthy_threshold(), 2u);
}

TEST(LegacyConfigTest, CircuitBreakerTakesEveryDefaultWhenLeftOut) {
  const v1::CircuitBreaker breaker =
      LoadValid("backends: [ { address: \"b:1\" } ]").clusters(0).circuit_breaker();
  EXPECT_TRUE(breaker.enabled());
  EXPECT_EQ(breaker.failure_threshold(), 5u);
  EXPECT_EQ(breaker.success_threshold(), 3u);
  EXPECT_EQ(breaker.timeout().seconds(), 30);
}

TEST(LegacyConfigTest, DisabledHealthCheckIsAWholeBlock) {
  const v1::HealthCheck check =
      LoadValid("backends: [ { address: \"b:1\" } ]\nhealth_check: { enabled: false }")
          .clusters(0)
          .health_check();
  EXPECT_FALSE(check.enabled());
  EXPECT_EQ(check.interval().seconds(), 10);
}

TEST(LegacyConfigTest, PartialHealthCheckKeepsDefaultsForTheRest) {
  const v1::HealthCheck check =
      LoadValid("backends: [ { address: \"b:1\" } ]\nhealth_check: { path: /ready }")
          .clusters(0)
          .health_check();
  EXPECT_EQ(check.path(), "/ready");
  EXPECT_EQ(check.unhealthy_threshold(), 3u);
}

TEST(LegacyConfigTest, WeightZeroOrAbsentMeansOne) {
  const v1::Config config = LoadValid(
      "backends: [ { address: \"a:1\", weight: 0 }, { address: \"b:1\" }, { address: \"c:1\", "
      "weight: 3 } ]");
  ASSERT_EQ(config.clusters(0).endpoints_size(), 3);
  EXPECT_EQ(config.clusters(0).endpoints(0).weight(), 1u);
  EXPECT_EQ(config.clusters(0).endpoints(1).weight(), 1u);
  EXPECT_EQ(config.clusters(0).endpoints(2).weight(), 3u);
}

TEST(LegacyConfigTest, MixingFormatsSaysWhichKeyBelongsToWhich) {
  EXPECT_THAT(ErrorsOf("backends: [ { address: \"b:1\" } ]\nclusters: []"),
              ::testing::ElementsAre("test.yaml:1:1: 'backends' belongs to the original Hermes "
                                     "format but 'clusters' (line 2) belongs to the native "
                                     "format; write the file in one format"));
}

TEST(LegacyConfigTest, ErrorsNameThePathsOfTheOriginalFormat) {
  EXPECT_THAT(
      ErrorsOf("backends: [ { address: \"b:1\" }, { address: \"localhost\" } ]"),
      ::testing::ElementsAre("test.yaml:1:44: backends[1].address: \"localhost\" is missing a "
                             "port (expected host:port)"));
}

TEST(LegacyConfigTest, HealthCheckErrorsNameTheTopLevelBlock) {
  EXPECT_THAT(
      ErrorsOf("backends: [ { address: \"b:1\" } ]\n"
               "health_check: { interval: 1s, timeout: 5s }"),
      ::testing::ElementsAre("test.yaml:2:40: health_check.timeout: 5s must be <= interval (1s)"));
}

TEST(LegacyConfigTest, NoBackendsIsAnError) {
  EXPECT_THAT(ErrorsOf("server: { listen: \":8080\" }"),
              ::testing::ElementsAre("backends: must have at least one endpoint"));
}

TEST(LegacyConfigTest, BadListenAddressNamesServerListen) {
  EXPECT_THAT(ErrorsOf("server: { listen: \"8080\" }\nbackends: [ { address: \"b:1\" } ]"),
              ::testing::ElementsAre("test.yaml:1:19: server.listen: \"8080\" is missing a port "
                                     "(expected host:port, :port or [v6]:port)"));
}

TEST(LegacyConfigTest, MisspeltKeySuggestsTheOriginalOne) {
  EXPECT_THAT(ErrorsOf("server: { listne: \":8080\" }\nbackends: []"),
              ::testing::ElementsAre(
                  "test.yaml:1:11: server: unknown key 'listne'; did you mean 'listen'?"));
}

TEST(LegacyConfigTest, BareIntegerIntervalAsksForAUnit) {
  EXPECT_THAT(ErrorsOf("backends: [ { address: \"b:1\" } ]\nhealth_check: { interval: 10 }"),
              ::testing::ElementsAre(HasSubstr("health_check.interval: 10 has no unit")));
}

}  // namespace
}  // namespace hermes::config
