// The control plane's health verdicts on the wire: BuildResources marks unhealthy endpoints in
// their cluster's endpoints resource only, and the proxy's assembler reads them back without
// letting them touch the config it assembles. The fleet's sticky_secret rides in the listeners
// resource and comes back as the config's.
#include <gtest/gtest.h>

#include "dataplane/discovery/config_assembler.h"
#include "hermes/common/config.h"
#include "hermes/common/resources.h"

namespace hermes::dataplane {
namespace {

v1::Config TwoClusters() {
  auto loaded = config::LoadConfigString(R"(
clusters:
  - name: a
    health_check: { enabled: true }
    endpoints: [ { address: "127.0.0.1:9001" }, { address: "127.0.0.1:9002" } ]
  - name: b
    endpoints: [ { address: "127.0.0.1:9003" } ]
routes:
  - { name: ra, match: { prefix: /a }, cluster: a }
  - { name: rb, match: { prefix: / }, cluster: b }
)");
  for (const auto& e : loaded.errors) ADD_FAILURE() << e.ToString();
  return loaded.config;
}

v1::DiscoveryResponse Response(const discovery::ResourceSet& set, v1::ResourceType type) {
  v1::DiscoveryResponse r;
  r.set_type(type);
  r.set_version_info(discovery::SetVersion(set.of(type).resources));
  for (const auto& res : set.of(type).resources) *r.add_resources() = res;
  return r;
}

TEST(HealthOnTheWireTest, AnUnhealthyEndpointChangesOnlyItsClustersEndpointsResource) {
  v1::Config config = TwoClusters();
  auto healthy = discovery::BuildResources(config);
  auto one_down = discovery::BuildResources(config, {{"a", {"127.0.0.1:9002"}}});

  for (v1::ResourceType t : {v1::CLUSTERS, v1::ROUTES, v1::LISTENERS})
    EXPECT_EQ(discovery::SetVersion(healthy.of(t).resources), discovery::SetVersion(one_down.of(t).resources));
  const auto& before = healthy.of(v1::ENDPOINTS).resources;
  const auto& after = one_down.of(v1::ENDPOINTS).resources;
  ASSERT_EQ(before.size(), 2u);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_NE(before[0].version(), after[0].version());  // "a"
  EXPECT_EQ(before[1].version(), after[1].version());  // "b" untouched
  EXPECT_TRUE(before[0].endpoints().healthy().empty());
  ASSERT_EQ(after[0].endpoints().healthy().size(), 1u);
  EXPECT_FALSE(after[0].endpoints().healthy().at("127.0.0.1:9002"));
}

TEST(HealthOnTheWireTest, VerdictsForAddressesOrClustersNotInTheConfigAreLeftOut) {
  v1::Config config = TwoClusters();
  auto set = discovery::BuildResources(config, {{"a", {"127.0.0.1:7777"}}, {"gone", {"127.0.0.1:9001"}}});
  EXPECT_EQ(discovery::SetVersion(set.of(v1::ENDPOINTS).resources),
            discovery::SetVersion(discovery::BuildResources(config).of(v1::ENDPOINTS).resources));
}

TEST(HealthOnTheWireTest, TheAssemblerReadsTheVerdictsBackAndTheConfigStaysTheSame) {
  v1::Config config = TwoClusters();
  auto set = discovery::BuildResources(config, {{"a", {"127.0.0.1:9001"}}});
  ConfigAssembler assembler;
  for (v1::ResourceType t : discovery::kTypeOrder) assembler.Accept(Response(set, t));
  std::string why;
  auto assembled = assembler.Assemble(&why);
  ASSERT_TRUE(assembled) << why;

  ConfigAssembler plain;
  auto healthy_set = discovery::BuildResources(config);
  for (v1::ResourceType t : discovery::kTypeOrder) plain.Accept(Response(healthy_set, t));
  auto plain_config = plain.Assemble(&why);
  ASSERT_TRUE(plain_config) << why;
  EXPECT_EQ(assembled->SerializeAsString(), plain_config->SerializeAsString());

  auto unhealthy = assembler.Unhealthy();
  ASSERT_EQ(unhealthy.size(), 1u);
  EXPECT_EQ(unhealthy.at("a"), (std::set<std::string>{"127.0.0.1:9001"}));
  EXPECT_TRUE(plain.Unhealthy().empty());

  // The endpoints come back: a new endpoints response clears the verdict.
  assembler.Accept(Response(healthy_set, v1::ENDPOINTS));
  EXPECT_TRUE(assembler.Unhealthy().empty());
}

TEST(StickySecretOnTheWireTest, TheListenerSetsSecretBecomesTheAssembledConfigs) {
  v1::Config config = TwoClusters();
  config.set_sticky_secret("0123456789abcdef0123456789abcdef");
  auto set = discovery::BuildResources(config);
  EXPECT_EQ(set.of(v1::LISTENERS).resources.at(0).listeners().sticky_secret(),
            config.sticky_secret());
  ConfigAssembler assembler;
  for (v1::ResourceType t : discovery::kTypeOrder) assembler.Accept(Response(set, t));
  std::string why;
  auto assembled = assembler.Assemble(&why);
  ASSERT_TRUE(assembled) << why;
  EXPECT_EQ(assembled->sticky_secret(), config.sticky_secret());
}

TEST(StickySecretOnTheWireTest, TheCachedConfigLoadsBackWithItsSecretAndTheSameVersions) {
  v1::Config config = TwoClusters();
  config.set_sticky_secret("0123456789abcdef0123456789abcdef");
  auto set = discovery::BuildResources(config);
  ConfigAssembler pushed;
  for (v1::ResourceType t : discovery::kTypeOrder) pushed.Accept(Response(set, t));
  std::string why;
  auto assembled = pushed.Assemble(&why);
  ASSERT_TRUE(assembled) << why;

  ConfigAssembler restarted;  // a restart loads the cache (the assembled config)
  restarted.Load(*assembled);
  auto loaded = restarted.Assemble(&why);
  ASSERT_TRUE(loaded) << why;
  EXPECT_EQ(loaded->sticky_secret(), config.sticky_secret());
  // It subscribes with the versions the control plane pushed: nothing is re-sent.
  EXPECT_EQ(restarted.version(v1::LISTENERS), pushed.version(v1::LISTENERS));
}

// ResourceType is an open proto3 enum: a response of type 0 or 7 parses, and indexing the
// per-type slots with it read and wrote outside them (found by tests/fuzz/fuzz_discovery_response).
TEST(ConfigAssemblerTest, AResponseOfAnUnknownTypeIsRefusedAndChangesNothing) {
  v1::Config config = TwoClusters();
  auto set = discovery::BuildResources(config);
  ConfigAssembler assembler;
  for (v1::ResourceType t : discovery::kTypeOrder) EXPECT_EQ(assembler.Accept(Response(set, t)), "");
  std::string why;
  auto before = assembler.Assemble(&why);
  ASSERT_TRUE(before) << why;

  for (int type : {0, 5, 7, -1, 1 << 30}) {
    v1::DiscoveryResponse odd = Response(set, v1::ROUTES);
    odd.set_type(static_cast<v1::ResourceType>(type));
    odd.set_version_info("odd");
    EXPECT_EQ(assembler.Accept(odd), "unknown resource type " + std::to_string(type));
    EXPECT_FALSE(ConfigAssembler::known(odd.type()));
  }
  auto after = assembler.Assemble(&why);
  ASSERT_TRUE(after) << why;
  EXPECT_EQ(before->SerializeAsString(), after->SerializeAsString());
  for (v1::ResourceType t : discovery::kTypeOrder) EXPECT_NE(assembler.version(t), "odd");
}

}  // namespace
}  // namespace hermes::dataplane
