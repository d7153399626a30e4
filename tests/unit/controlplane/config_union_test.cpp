// The union the health checker and the stats see while two versions run.
#include "controlplane/rollout/config_union.h"

#include <gtest/gtest.h>

#include <google/protobuf/text_format.h>

namespace hermes::controlplane {
namespace {

v1::Config Parse(const std::string& text) {
  v1::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c));
  return c;
}

TEST(ConfigUnionTest, WithoutASecondConfigItIsTheFirst) {
  v1::Config a = Parse("clusters { name: 'web' endpoints { address: 'a:1' } }");
  EXPECT_EQ(ConfigUnion(a, nullptr).SerializeAsString(), a.SerializeAsString());
}

TEST(ConfigUnionTest, ClustersAndRoutesOfBothAndEndpointsOfASharedClusterAreJoined) {
  v1::Config a = Parse(
      "clusters { name: 'web' endpoints { address: 'a:1' } }"
      "routes { name: 'all' cluster: 'web' }");
  v1::Config b = Parse(
      "clusters { name: 'web' endpoints { address: 'a:1' } endpoints { address: 'b:1' } }"
      "clusters { name: 'api' endpoints { address: 'c:1' } }"
      "routes { name: 'all' cluster: 'web' } routes { name: 'api' cluster: 'api' }");
  v1::Config u = ConfigUnion(a, &b);
  ASSERT_EQ(u.clusters_size(), 2);
  EXPECT_EQ(u.clusters(0).name(), "web");
  ASSERT_EQ(u.clusters(0).endpoints_size(), 2);
  EXPECT_EQ(u.clusters(0).endpoints(1).address(), "b:1");
  EXPECT_EQ(u.clusters(1).name(), "api");
  ASSERT_EQ(u.routes_size(), 2);
  EXPECT_EQ(u.routes(1).name(), "api");
}

TEST(ConfigUnionTest, ASharedClusterIsCheckedWhenOnlyTheSecondChecksIt) {
  v1::Config a = Parse("clusters { name: 'web' health_check { enabled: false } endpoints { address: 'a:1' } }");
  v1::Config b = Parse(
      "clusters { name: 'web' health_check { enabled: true path: '/ready' } endpoints { address: 'b:1' } }");
  v1::Config u = ConfigUnion(a, &b);
  EXPECT_TRUE(u.clusters(0).health_check().enabled());
  EXPECT_EQ(u.clusters(0).health_check().path(), "/ready");
  EXPECT_EQ(u.clusters(0).endpoints_size(), 2);
}

}  // namespace
}  // namespace hermes::controlplane
