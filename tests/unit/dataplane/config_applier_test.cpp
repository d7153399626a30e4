// Incremental apply (config_applier.h): what a change recompiles, what it keeps, and that names
// resolve without holding up an apply.
#include "dataplane/config/config_applier.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/lb/load_balancer.h"
#include "hermes/common/config.h"

namespace hermes::dataplane {
namespace {

v1::Config Load(const std::string& yaml) {
  auto loaded = config::LoadConfigString(yaml);
  for (const auto& e : loaded.errors) ADD_FAILURE() << e.ToString();
  return loaded.config;
}

const std::string kRoutes =
    "routes:\n"
    "  - { name: to-a, match: { prefix: /a }, cluster: a }\n"
    "  - { name: to-b, match: { prefix: /b }, cluster: b }\n";

std::string TwoClusters(const std::string& b_endpoints, const std::string& routes = kRoutes) {
  return "clusters:\n"
         "  - name: a\n"
         "    endpoints: [ {address: \"127.0.0.1:1\"}, {address: \"127.0.0.1:2\"}, {address: "
         "\"127.0.0.1:3\"} ]\n"
         "  - name: b\n"
         "    endpoints: [ " +
         b_endpoints + " ]\n" + routes;
}

const Cluster* Find(const Snapshot& snap, const std::string& name) {
  for (const auto& c : snap.clusters)
    if (c->name == name) return c.get();
  return nullptr;
}

size_t Pick(const Snapshot& snap, const std::string& cluster) {
  return *Find(snap, cluster)->balancers[0]->Pick({});
}

class ConfigApplierTest : public ::testing::Test {
 protected:
  StatsStore stats_{1};
  EndpointStateRegistry registry_{1};
  ConfigApplier applier_{stats_, registry_};
  ResolvedHosts hosts_;
};

TEST_F(ConfigApplierTest, UnchangedClusterKeepsItsBalancer) {
  auto first =
      applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}")), hosts_).snapshot;
  ASSERT_TRUE(first);
  EXPECT_EQ(Pick(*first, "a"), 0u);
  EXPECT_EQ(Pick(*first, "a"), 1u);

  auto result = applier_.ApplyConfig(
      Load(TwoClusters("{address: \"127.0.0.1:9\"}, {address: \"127.0.0.1:10\"}")), hosts_);
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.compiled_clusters, std::vector<std::string>{"b"});
  EXPECT_EQ(Find(*result.snapshot, "a"), Find(*first, "a")) << "the same compiled cluster";
  EXPECT_NE(Find(*result.snapshot, "b"), Find(*first, "b"));
  EXPECT_EQ(Pick(*result.snapshot, "a"), 2u) << "the round-robin position goes on";
  EXPECT_EQ(result.snapshot->config.clusters(1).endpoints_size(), 2);
}

TEST_F(ConfigApplierTest, RouteOnlyChangeKeepsClusters) {
  auto first =
      applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}")), hosts_).snapshot;
  const std::string swapped =
      "routes:\n"
      "  - { name: to-a, match: { prefix: /x }, cluster: b }\n"
      "  - { name: to-b, match: { prefix: /b }, cluster: a }\n";
  auto result =
      applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}", swapped)), hosts_);
  ASSERT_TRUE(result.snapshot);
  EXPECT_TRUE(result.compiled_clusters.empty());
  ASSERT_EQ(result.snapshot->clusters.size(), 2u);
  EXPECT_EQ(result.snapshot->clusters[0], first->clusters[0]);
  EXPECT_EQ(result.snapshot->clusters[1], first->clusters[1]);
  ASSERT_EQ(result.snapshot->routes.size(), 2u);
  EXPECT_EQ(result.snapshot->routes[0].prefix, "/x");
  EXPECT_EQ(result.snapshot->routes[0].cluster, Find(*first, "b")) << "re-linked, not recompiled";
  EXPECT_EQ(result.snapshot->routes[1].cluster, Find(*first, "a"));
  EXPECT_EQ(result.snapshot->config.routes(0).prefix_rewrite(), "");
  EXPECT_EQ(result.snapshot->config.routes(0).match().prefix(), "/x");
}

TEST_F(ConfigApplierTest, TheSameConfigAgainMakesNoSnapshot) {
  v1::Config config = Load(TwoClusters("{address: \"127.0.0.1:9\"}"));
  ASSERT_TRUE(applier_.ApplyConfig(config, hosts_).snapshot);
  auto again = applier_.ApplyConfig(config, hosts_);
  EXPECT_TRUE(again.errors.empty());
  EXPECT_FALSE(again.snapshot);
}

TEST_F(ConfigApplierTest, ChangedEndpointsRecompileOnlyThatCluster) {
  auto first =
      applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}")), hosts_).snapshot;
  ConfigChanges changes;
  v1::Cluster& b = changes.clusters.emplace_back();
  b.set_name("b");
  b.add_endpoints()->set_address("127.0.0.1:9");
  b.add_endpoints()->set_address("127.0.0.1:10");
  auto result = applier_.ApplyChanges(std::move(changes), hosts_);
  ASSERT_TRUE(result.errors.empty()) << result.errors[0];
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.compiled_clusters, std::vector<std::string>{"b"});
  EXPECT_EQ(Find(*result.snapshot, "a"), Find(*first, "a"));
  const Cluster* new_b = Find(*result.snapshot, "b");
  ASSERT_EQ(new_b->endpoints.size(), 2u);
  EXPECT_EQ(new_b->endpoints[0].state, Find(*first, "b")->endpoints[0].state)
      << "an endpoint that stays keeps its shared state (breaker, outlier, health, counts)";
  EXPECT_EQ(new_b->state, Find(*first, "b")->state);
  EXPECT_EQ(new_b->stats, Find(*first, "b")->stats);
  EXPECT_EQ(result.snapshot->routes[1].cluster, new_b);
  EXPECT_EQ(result.snapshot->config.clusters(1).endpoints_size(), 2);
  EXPECT_TRUE(result.snapshot->config.clusters(1).has_health_check()) << "defaults applied";
}

TEST_F(ConfigApplierTest, AnInvalidChangedClusterIsRefusedWithItsPathAndNothingChanges) {
  auto first =
      applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}")), hosts_).snapshot;
  ConfigChanges changes;
  v1::Cluster& b = changes.clusters.emplace_back();
  b.set_name("b");
  b.add_endpoints()->set_address("no port");
  auto result = applier_.ApplyChanges(std::move(changes), hosts_);
  ASSERT_FALSE(result.errors.empty());
  EXPECT_NE(result.errors[0].find("clusters[1].endpoints[0].address"), std::string::npos)
      << result.errors[0];
  EXPECT_FALSE(result.snapshot);
  EXPECT_EQ(applier_.current(), first);
}

TEST_F(ConfigApplierTest, ARouteToAClusterThatIsGoneIsRefused) {
  applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}")), hosts_);
  ConfigChanges changes;
  changes.removed_clusters.push_back("b");
  auto result = applier_.ApplyChanges(std::move(changes), hosts_);
  ASSERT_FALSE(result.errors.empty());
  EXPECT_NE(result.errors[0].find("routes[1].cluster"), std::string::npos) << result.errors[0];
}

TEST_F(ConfigApplierTest, RemovedClusterDropsItsState) {
  const std::string only_a = "routes:\n  - { name: to-a, match: { prefix: /a }, cluster: a }\n";
  auto first = applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}", only_a)), hosts_)
                   .snapshot;
  std::weak_ptr<ClusterState> b_state = Find(*first, "b")->state;
  std::weak_ptr<EndpointState> b_endpoint = Find(*first, "b")->endpoints[0].state;
  std::weak_ptr<Cluster> b_cluster = first->clusters[1];
  const Cluster* a = Find(*first, "a");

  ConfigChanges changes;
  changes.removed_clusters.push_back("b");
  auto result = applier_.ApplyChanges(std::move(changes), hosts_);
  ASSERT_TRUE(result.errors.empty()) << result.errors[0];
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.snapshot->clusters.size(), 1u);
  EXPECT_EQ(Find(*result.snapshot, "a"), a);
  EXPECT_EQ(result.snapshot->config.clusters_size(), 1);

  first.reset();  // the last request on the old snapshot finished
  registry_.Prune();
  EXPECT_TRUE(b_cluster.expired()) << "its balancers went with it";
  EXPECT_TRUE(b_state.expired());
  EXPECT_TRUE(b_endpoint.expired());
}

TEST_F(ConfigApplierTest, NewNameServedOnceResolved) {
  auto first =
      applier_
          .ApplyConfig(
              Load(TwoClusters("{address: \"backend.test:80\"}, {address: \"127.0.0.1:9\"}")),
              hosts_)
          .snapshot;
  const Cluster* b = Find(*first, "b");
  EXPECT_TRUE(b->endpoints[0].resolved.empty()) << "not resolved yet: no address";
  ASSERT_EQ(b->endpoints[1].resolved.size(), 1u) << "an IP literal needs no lookup";
  EXPECT_FALSE(applier_.ApplyResolved(hosts_).snapshot) << "nothing new to serve";

  auto addr = tcp::endpoint(asio::ip::make_address("192.0.2.7"), 80);
  hosts_.entries["backend.test:80"] = {addr};
  auto result = applier_.ApplyResolved(hosts_);
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.compiled_clusters, std::vector<std::string>{"b"});
  EXPECT_EQ(Find(*result.snapshot, "a"), Find(*first, "a"));
  EXPECT_EQ(Find(*result.snapshot, "b")->endpoints[0].resolved, std::vector<tcp::endpoint>{addr});
}

TEST_F(ConfigApplierTest, ANewStickySecretRecompilesEveryCluster) {
  auto first =
      applier_.ApplyConfig(Load(TwoClusters("{address: \"127.0.0.1:9\"}")), hosts_).snapshot;
  ConfigChanges changes;
  changes.listeners = first->config;
  changes.listeners->clear_clusters();
  changes.listeners->clear_routes();
  changes.listeners->set_sticky_secret("a fleet-wide key of 32 bytes....");
  auto result = applier_.ApplyChanges(std::move(changes), hosts_);
  ASSERT_TRUE(result.errors.empty()) << result.errors[0];
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.compiled_clusters.size(), 2u);
  EXPECT_NE(Find(*result.snapshot, "a")->endpoints[0].sticky_id,
            Find(*first, "a")->endpoints[0].sticky_id);
}

}  // namespace
}  // namespace hermes::dataplane
