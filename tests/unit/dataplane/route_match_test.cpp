// Route matching of a compiled snapshot: segment-aware prefixes, exact paths, exact and wildcard
// hosts, first match wins (config.proto RouteMatch).
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "dataplane/config/snapshot.h"
#include "dataplane/stats/stats.h"
#include "hermes/common/config.h"

namespace hermes::dataplane {
namespace {

class RouteMatchTest : public ::testing::Test {
 protected:
  // Compiles `routes_yaml` (the items of `routes:`) with one cluster named "up".
  SnapshotPtr Compile(const std::string& routes_yaml) {
    const std::string yaml =
        "clusters:\n"
        "  - name: up\n"
        "    endpoints: [ { address: \"127.0.0.1:9\" } ]\n"
        "routes:\n" +
        routes_yaml;
    auto loaded = config::LoadConfigString(yaml);
    for (const auto& e : loaded.errors) ADD_FAILURE() << e.ToString();
    return CompileSnapshot(loaded.config, ResolvedHosts{}, 1, stats_, registry_);
  }

  // The name of the route a request for host/path matches, or "" if none.
  static std::string Matched(const SnapshotPtr& snapshot, std::string_view host,
                             std::string_view path) {
    const Route* route = snapshot->Match(host, path);
    return route ? route->name : "";
  }

  StatsStore stats_{1};
  EndpointStateRegistry registry_;
};

TEST_F(RouteMatchTest, PrefixMatchesItselfAndPathsBelowIt) {
  auto snapshot = Compile("  - { name: api, match: { prefix: /api }, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "h", "/api"), "api");
  EXPECT_EQ(Matched(snapshot, "h", "/api/x"), "api");
  EXPECT_EQ(Matched(snapshot, "h", "/api/x/y"), "api");
}

TEST_F(RouteMatchTest, PrefixDoesNotMatchAcrossASegmentBoundary) {
  auto snapshot = Compile("  - { name: api, match: { prefix: /api }, cluster: up }\n");
  EXPECT_EQ(snapshot->Match("h", "/apix"), nullptr);
  EXPECT_EQ(snapshot->Match("h", "/ap"), nullptr);
  EXPECT_EQ(snapshot->Match("h", "/other/api"), nullptr);
}

TEST_F(RouteMatchTest, PrefixWithTrailingSlashMatchesPathsBelowIt) {
  auto snapshot = Compile("  - { name: api, match: { prefix: /api/ }, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "h", "/api/x"), "api");
  EXPECT_EQ(Matched(snapshot, "h", "/api/"), "api");
  EXPECT_EQ(snapshot->Match("h", "/apix"), nullptr);
}

TEST_F(RouteMatchTest, ExactPathMatchesOnlyThatPath) {
  auto snapshot = Compile("  - { name: exact, match: { path: /health }, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "h", "/health"), "exact");
  EXPECT_EQ(snapshot->Match("h", "/health/x"), nullptr);
  EXPECT_EQ(snapshot->Match("h", "/healthz"), nullptr);
  EXPECT_EQ(snapshot->Match("h", "/"), nullptr);
}

TEST_F(RouteMatchTest, ExactHostMatchesOnlyThatHost) {
  auto snapshot = Compile("  - { name: host, match: { host: api.example.com }, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "api.example.com", "/anything"), "host");
  EXPECT_EQ(snapshot->Match("www.example.com", "/anything"), nullptr);
  EXPECT_EQ(snapshot->Match("a.api.example.com", "/anything"), nullptr);
}

TEST_F(RouteMatchTest, ConfiguredHostIsCaseInsensitive) {
  auto snapshot = Compile("  - { name: host, match: { host: API.Example.COM }, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "api.example.com", "/"), "host");
}

TEST_F(RouteMatchTest, WildcardHostMatchesSubdomainsButNotTheDomainItself) {
  auto snapshot = Compile("  - { name: wild, match: { host: \"*.example.com\" }, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "a.example.com", "/"), "wild");
  EXPECT_EQ(Matched(snapshot, "a.b.example.com", "/"), "wild");
  EXPECT_EQ(snapshot->Match("example.com", "/"), nullptr);
  EXPECT_EQ(snapshot->Match("aexample.com", "/"), nullptr);
  EXPECT_EQ(snapshot->Match("a.example.org", "/"), nullptr);
}

TEST_F(RouteMatchTest, NormalizeHostLowerCasesAndDropsThePort) {
  std::string scratch;
  EXPECT_EQ(NormalizeHost("Example.COM:8080", scratch), "example.com");
  EXPECT_EQ(NormalizeHost("example.com", scratch), "example.com");
  EXPECT_EQ(NormalizeHost("API.example.com", scratch), "api.example.com");
  EXPECT_EQ(NormalizeHost("[::1]:8080", scratch), "[::1]");
}

TEST_F(RouteMatchTest, NormalizedHostWithPortAndUpperCaseMatchesAHostRoute) {
  auto snapshot = Compile("  - { name: host, match: { host: api.example.com }, cluster: up }\n");
  std::string scratch;
  EXPECT_EQ(Matched(snapshot, NormalizeHost("API.Example.com:8443", scratch), "/"), "host");
}

TEST_F(RouteMatchTest, FirstMatchingRouteWins) {
  auto snapshot = Compile(
      "  - { name: first, match: { prefix: /api }, cluster: up }\n"
      "  - { name: second, match: { prefix: /api/v1 }, cluster: up }\n"
      "  - { name: rest, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "h", "/api/v1/users"), "first");
  EXPECT_EQ(Matched(snapshot, "h", "/other"), "rest");
}

TEST_F(RouteMatchTest, HostAndPrefixMustBothMatch) {
  auto snapshot = Compile(
      "  - { name: both, match: { host: api.example.com, prefix: /v1 }, cluster: up }\n"
      "  - { name: rest, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "api.example.com", "/v1/x"), "both");
  EXPECT_EQ(Matched(snapshot, "api.example.com", "/v2"), "rest");
  EXPECT_EQ(Matched(snapshot, "www.example.com", "/v1/x"), "rest");
}

TEST_F(RouteMatchTest, RouteWithoutMatchIsTheDefaultForEveryRequest) {
  auto snapshot = Compile("  - { name: default, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "any.host", "/"), "default");
  EXPECT_EQ(Matched(snapshot, "", "/deep/path"), "default");
}

TEST_F(RouteMatchTest, SlashPrefixMatchesEveryPath) {
  auto snapshot = Compile("  - { name: root, match: { prefix: / }, cluster: up }\n");
  EXPECT_EQ(Matched(snapshot, "h", "/"), "root");
  EXPECT_EQ(Matched(snapshot, "h", "/x/y"), "root");
}

TEST_F(RouteMatchTest, NoMatchingRouteGivesNull) {
  auto snapshot = Compile(
      "  - { name: api, match: { prefix: /api }, cluster: up }\n"
      "  - { name: host, match: { host: h.example.com }, cluster: up }\n");
  EXPECT_EQ(snapshot->Match("other.example.com", "/web"), nullptr);
}

TEST_F(RouteMatchTest, RouteIsBoundToItsCluster) {
  auto snapshot = Compile("  - { name: default, cluster: up }\n");
  const Route* route = snapshot->Match("h", "/");
  ASSERT_NE(route, nullptr);
  ASSERT_NE(route->cluster, nullptr);
  EXPECT_EQ(route->cluster->name, "up");
}

}  // namespace
}  // namespace hermes::dataplane
