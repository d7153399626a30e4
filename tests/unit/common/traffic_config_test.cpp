// The traffic-management part of the schema (retry policy, breakers, outlier detection, limits,
// hash policy, sticky sessions): YAML, defaults and validation with field paths.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hermes/common/config.h"
#include "hermes/common/duration.h"

namespace hermes::config {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// One cluster "web" (with `cluster_extra` lines) and one route to it (with `route_extra` inside
// its flow map).
LoadResult Load(const std::string& cluster_extra, const std::string& route_extra = "") {
  std::string yaml =
      "clusters:\n"
      "  - name: web\n"
      "    endpoints: [ { address: \"127.0.0.1:9001\" }, { address: \"127.0.0.1:9002\" } ]\n" +
      cluster_extra + "routes:\n  - { cluster: web" + (route_extra.empty() ? "" : ", " + route_extra) +
      " }\n";
  return LoadConfigString(yaml, "t.yaml");
}

std::vector<std::string> Errors(const LoadResult& result) {
  std::vector<std::string> errors;
  for (const ConfigError& e : result.errors) errors.push_back(e.ToString());
  return errors;
}

TEST(TrafficConfigTest, DefaultsMatchEnvoyWhereNothingIsWritten) {
  LoadResult r = Load("");
  ASSERT_THAT(Errors(r), IsEmpty());
  const v1::Cluster& c = r.config.clusters(0);
  EXPECT_EQ(c.panic_threshold(), 50u);
  EXPECT_EQ(c.least_request().choice_count(), 2u);
  EXPECT_EQ(c.ring_hash().minimum_ring_size(), 1024u);
  EXPECT_EQ(c.limits().max_connections(), 1024u);
  EXPECT_EQ(c.limits().max_retries(), 3u);
  EXPECT_DOUBLE_EQ(c.retry_budget().budget_percent(), 20.0);
  EXPECT_EQ(c.circuit_breaker().half_open_max_requests(), 1u);
  EXPECT_EQ(c.circuit_breaker().failure_on_size(), 4);
  EXPECT_FALSE(c.has_outlier_detection());
  EXPECT_FALSE(r.config.routes(0).has_retry_policy());  // the implicit connect-failure policy
}

TEST(TrafficConfigTest, RetryPolicyTakesEnvoysBackoffDefaults) {
  LoadResult r = Load("", "retry_policy: { retry_on: [5xx] }");
  ASSERT_THAT(Errors(r), IsEmpty());
  const v1::RetryPolicy& p = r.config.routes(0).retry_policy();
  EXPECT_EQ(p.num_retries(), 1u);
  EXPECT_EQ(ToChrono(p.backoff_base_interval()), 25ms);
  EXPECT_EQ(ToChrono(p.backoff_max_interval()), 250ms);
  EXPECT_EQ(p.retry_buffer_limit(), 1048576u);
}

TEST(TrafficConfigTest, OutlierBlockTurnsDetectionOnWithDefaults) {
  LoadResult r = Load("    outlier_detection: {}\n");
  ASSERT_THAT(Errors(r), IsEmpty());
  const v1::OutlierDetection& o = r.config.clusters(0).outlier_detection();
  EXPECT_TRUE(o.enabled());
  EXPECT_EQ(o.consecutive_5xx(), 5u);
  EXPECT_EQ(ToChrono(o.base_ejection_time()), 30s);
  EXPECT_EQ(o.max_ejection_percent(), 10u);
}

TEST(TrafficConfigTest, UnknownRetryConditionIsNamedWithItsPath) {
  EXPECT_THAT(Errors(Load("", "retry_policy: { retry_on: [5xx, conect-failure] }")),
              Contains(HasSubstr("routes[0].retry_policy.retry_on[1]: \"conect-failure\" is not a "
                                 "retry condition")));
}

TEST(TrafficConfigTest, RetriableStatusCodesNeedCodes) {
  EXPECT_THAT(Errors(Load("", "retry_policy: { retry_on: [retriable-status-codes] }")),
              Contains(HasSubstr("routes[0].retry_policy.retriable_status_codes: must list codes")));
}

TEST(TrafficConfigTest, PerTryTimeoutFitsInTheRouteTimeout) {
  EXPECT_THAT(Errors(Load("", "timeout: 1s, retry_policy: { per_try_timeout: 2s }")),
              Contains(HasSubstr("routes[0].retry_policy.per_try_timeout: 2s must be <= the route "
                                 "timeout (1s)")));
}

TEST(TrafficConfigTest, BreakerFailureKindsAreChecked) {
  EXPECT_THAT(Errors(Load("    circuit_breaker: { failure_on: [5xx, 4xx] }\n")),
              Contains(HasSubstr("clusters[0].circuit_breaker.failure_on[1]: \"4xx\" is not a "
                                 "failure kind")));
}

TEST(TrafficConfigTest, HashPolicyNeedsAHashingBalancer) {
  EXPECT_THAT(Errors(Load("    hash_policy: [ { header: x-user } ]\n")),
              Contains(HasSubstr("clusters[0].hash_policy: is used only by lb_policy ring_hash or "
                                 "maglev")));
  EXPECT_THAT(Errors(Load("    lb_policy: maglev\n    hash_policy: [ { header: x-user } ]\n")),
              IsEmpty());
}

TEST(TrafficConfigTest, HashPolicyTakesOneKeySource) {
  LoadResult r = Load("    lb_policy: ring_hash\n    hash_policy: [ { header: x-user, cookie: id } ]\n");
  EXPECT_THAT(Errors(r), Contains(HasSubstr("'cookie' and 'header' are alternatives")));
}

TEST(TrafficConfigTest, StickySessionNeedsExactlyOneCarrier) {
  EXPECT_THAT(Errors(Load("    sticky_session: {}\n")),
              Contains(HasSubstr("clusters[0].sticky_session: set exactly one of cookie or header")));
}

TEST(TrafficConfigTest, SameSiteNoneNeedsSecure) {
  EXPECT_THAT(Errors(Load("    sticky_session: { cookie: { name: s, same_site: None } }\n")),
              Contains(HasSubstr("clusters[0].sticky_session.cookie.same_site: None needs secure")));
  EXPECT_THAT(Errors(Load("    sticky_session: { cookie: { name: s, same_site: None, secure: true } }\n")),
              IsEmpty());
}

TEST(TrafficConfigTest, OutlierMaxEjectionTimeIsAtLeastTheBase) {
  EXPECT_THAT(Errors(Load("    outlier_detection: { base_ejection_time: 1m, max_ejection_time: 10s }\n")),
              Contains(HasSubstr("clusters[0].outlier_detection.max_ejection_time: 10s must be >= "
                                 "base_ejection_time (1m)")));
}

TEST(TrafficConfigTest, LimitsMustAdmitSomething) {
  EXPECT_THAT(Errors(Load("    limits: { max_requests: 0 }\n")),
              Contains(HasSubstr("clusters[0].limits.max_requests")));
}

TEST(TrafficConfigTest, RingSizesAreOrdered) {
  EXPECT_THAT(Errors(Load("    ring_hash: { minimum_ring_size: 4096, maximum_ring_size: 1024 }\n")),
              Contains(HasSubstr("clusters[0].ring_hash.minimum_ring_size: 4096 must be <= "
                                 "maximum_ring_size (1024)")));
}

TEST(TrafficConfigTest, ErrorsPointAtTheirLineInTheFile) {
  LoadResult r = Load("    circuit_breaker: { half_open_max_requests: 0 }\n");
  ASSERT_FALSE(r.errors.empty());
  EXPECT_THAT(Errors(r), Contains(HasSubstr("t.yaml:4:")));
}

}  // namespace
}  // namespace hermes::config
