// StreamState: the discovery protocol's rules for one proxy stream (ACK, NACK, nonces,
// backpressure, make-before-break ordering), without gRPC.
#include <gtest/gtest.h>

#include <google/protobuf/text_format.h>

#include "controlplane/discovery/stream_state.h"

namespace hermes::controlplane {
namespace {

v1::Config ConfigOf(const std::string& text) {
  v1::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

// Clusters `names` each with one endpoint, and one route per entry of `routed`.
v1::Config Config(std::vector<std::string> names, std::vector<std::string> routed, int port = 9000) {
  std::string text;
  for (const auto& n : names)
    text += "clusters { name: '" + n + "' endpoints { address: '127.0.0.1:" + std::to_string(port) + "' } }\n";
  for (const auto& r : routed) text += "routes { name: 'to-" + r + "' cluster: '" + r + "' }\n";
  text += "listeners { address: ':8080' }\n";
  return ConfigOf(text);
}

v1::DiscoveryRequest Subscribe(v1::ResourceType t, const std::string& version = "") {
  v1::DiscoveryRequest r;
  r.set_type(t);
  r.set_version_info(version);
  return r;
}

v1::DiscoveryRequest Ack(const v1::DiscoveryResponse& response) {
  v1::DiscoveryRequest r;
  r.set_type(response.type());
  r.set_version_info(response.version_info());
  r.set_response_nonce(response.nonce());
  return r;
}

v1::DiscoveryRequest Nack(const v1::DiscoveryResponse& response, const std::string& previous) {
  v1::DiscoveryRequest r = Ack(response);
  r.set_version_info(previous);
  r.mutable_error_detail()->set_message("clusters[0]: bad");
  return r;
}

class StreamStateTest : public ::testing::Test {
 protected:
  // Subscribes to every type; returns what was sent.
  std::vector<v1::DiscoveryResponse> SubscribeAll() {
    std::vector<v1::DiscoveryResponse> sent;
    for (auto t : kTypeOrder) {
      auto o = state_.OnRequest(Subscribe(t));
      sent.insert(sent.end(), o.send.begin(), o.send.end());
    }
    return sent;
  }

  // ACKs every response until nothing more is sent; returns the types in the order sent.
  std::vector<v1::ResourceType> AckUntilQuiet(std::vector<v1::DiscoveryResponse> queue) {
    std::vector<v1::ResourceType> order;
    while (!queue.empty()) {
      auto r = queue.front();
      queue.erase(queue.begin());
      order.push_back(r.type());
      auto o = state_.OnRequest(Ack(r));
      queue.insert(queue.end(), o.send.begin(), o.send.end());
    }
    return order;
  }

  StreamState state_;
};

TEST_F(StreamStateTest, FirstConfigGoesClustersEndpointsRoutesListenersInOrder) {
  SubscribeAll();
  auto sent = state_.SetDesired(BuildResources(Config({"a"}, {"a"})));
  ASSERT_EQ(sent.size(), 1u);  // only clusters: the rest waits for its ACK
  EXPECT_EQ(sent[0].type(), v1::CLUSTERS);
  EXPECT_EQ(AckUntilQuiet(sent),
            (std::vector<v1::ResourceType>{v1::CLUSTERS, v1::ENDPOINTS, v1::ROUTES, v1::LISTENERS}));
  EXPECT_TRUE(state_.InSync());
}

TEST_F(StreamStateTest, EndpointChangeResendsOnlyEndpoints) {
  SubscribeAll();
  AckUntilQuiet(state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9000))));
  auto sent = state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9001)));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type(), v1::ENDPOINTS);
  EXPECT_EQ(AckUntilQuiet(sent), std::vector<v1::ResourceType>{v1::ENDPOINTS});
}

TEST_F(StreamStateTest, UnchangedConfigSendsNothing) {
  SubscribeAll();
  AckUntilQuiet(state_.SetDesired(BuildResources(Config({"a"}, {"a"}))));
  EXPECT_TRUE(state_.SetDesired(BuildResources(Config({"a"}, {"a"}))).empty());
}

TEST_F(StreamStateTest, AtMostOneUnackedResponsePerTypeAndTheLatestIsSentAfter) {
  SubscribeAll();
  AckUntilQuiet(state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9000))));
  auto first = state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9001)));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9002))).empty());
  EXPECT_TRUE(state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9003))).empty());
  auto o = state_.OnRequest(Ack(first[0]));
  ASSERT_EQ(o.send.size(), 1u);  // coalesced: only the newest
  EXPECT_EQ(o.send[0].resources(0).endpoints().endpoints(0).address(), "127.0.0.1:9003");
}

TEST_F(StreamStateTest, StaleNonceIsIgnored) {
  SubscribeAll();
  auto sent = state_.SetDesired(BuildResources(Config({"a"}, {"a"})));
  v1::DiscoveryRequest stale = Ack(sent[0]);
  stale.set_response_nonce("999");
  auto o = state_.OnRequest(stale);
  EXPECT_TRUE(o.stale);
  EXPECT_TRUE(o.send.empty());
  EXPECT_TRUE(state_.pending(v1::CLUSTERS));
}

TEST_F(StreamStateTest, NackIsRecordedAndThatVersionIsNeverSentAgain) {
  SubscribeAll();
  AckUntilQuiet(state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9000))));
  std::string good = state_.acked_version(v1::ENDPOINTS);
  auto bad = state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9001)));
  ASSERT_EQ(bad.size(), 1u);
  auto o = state_.OnRequest(Nack(bad[0], good));
  ASSERT_TRUE(o.nack);
  EXPECT_EQ(o.nack->type, v1::ENDPOINTS);
  EXPECT_EQ(o.nack->version, bad[0].version_info());
  EXPECT_EQ(o.nack->error, "clusters[0]: bad");
  EXPECT_TRUE(o.send.empty());
  EXPECT_EQ(state_.acked_version(v1::ENDPOINTS), good);  // the proxy keeps its last good config
  EXPECT_TRUE(state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9001))).empty());
  EXPECT_EQ(state_.SetDesired(BuildResources(Config({"a"}, {"a"}, 9002))).size(), 1u);
}

TEST_F(StreamStateTest, NewClusterIsAckedBeforeTheRouteThatUsesItIsSent) {
  SubscribeAll();
  AckUntilQuiet(state_.SetDesired(BuildResources(Config({"a"}, {"a"}))));
  auto sent = state_.SetDesired(BuildResources(Config({"a", "b"}, {"a", "b"})));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type(), v1::CLUSTERS);
  EXPECT_EQ(AckUntilQuiet(sent),
            (std::vector<v1::ResourceType>{v1::CLUSTERS, v1::ENDPOINTS, v1::ROUTES}));
}

TEST_F(StreamStateTest, ClusterIsRemovedOnlyAfterRoutesWithoutItAreAcked) {
  SubscribeAll();
  AckUntilQuiet(state_.SetDesired(BuildResources(Config({"a", "b"}, {"a", "b"}))));
  auto sent = state_.SetDesired(BuildResources(Config({"a"}, {"a"})));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type(), v1::ROUTES);  // clusters keep "b" while routes use it
  auto o = state_.OnRequest(Ack(sent[0]));
  ASSERT_EQ(o.send.size(), 1u);  // now clusters drop "b", then its endpoints
  EXPECT_EQ(o.send[0].type(), v1::CLUSTERS);
  ASSERT_EQ(o.send[0].resources_size(), 1);
  EXPECT_EQ(o.send[0].resources(0).name(), "a");
  auto then = state_.OnRequest(Ack(o.send[0]));
  ASSERT_EQ(then.send.size(), 1u);
  EXPECT_EQ(then.send[0].type(), v1::ENDPOINTS);
  EXPECT_EQ(then.send[0].resources_size(), 1);
  EXPECT_TRUE(AckUntilQuiet(then.send).size() == 1 && state_.InSync());
}

TEST_F(StreamStateTest, ReconnectingProxyThatRunsTheVersionGetsNothing) {
  StreamState first;
  for (auto t : kTypeOrder) first.OnRequest(Subscribe(t));
  ResourceSet desired = BuildResources(Config({"a"}, {"a"}));
  auto queue = first.SetDesired(desired);
  while (!queue.empty()) {
    auto r = queue.front();
    queue.erase(queue.begin());
    auto o = first.OnRequest(Ack(r));
    queue.insert(queue.end(), o.send.begin(), o.send.end());
  }
  state_.SetDesired(desired);
  for (auto t : kTypeOrder) {
    auto o = state_.OnRequest(Subscribe(t, first.acked_version(t)));
    EXPECT_TRUE(o.send.empty()) << v1::ResourceType_Name(t);
  }
  EXPECT_TRUE(state_.InSync());
}

TEST_F(StreamStateTest, UnknownTypeIsIgnored) {
  v1::DiscoveryRequest r;
  r.set_type(static_cast<v1::ResourceType>(9));
  EXPECT_TRUE(state_.OnRequest(r).stale);
}

TEST(ResourcesTest, VersionsFollowContentNotOrder) {
  ResourceSet one = BuildResources(Config({"a", "b"}, {"a"}));
  ResourceSet two = BuildResources(Config({"b", "a"}, {"a"}));
  for (auto t : kTypeOrder) EXPECT_EQ(SetVersion(one.of(t).resources), SetVersion(two.of(t).resources));
  ResourceSet three = BuildResources(Config({"a", "b"}, {"b"}));
  EXPECT_NE(SetVersion(one.of(v1::ROUTES).resources), SetVersion(three.of(v1::ROUTES).resources));
  EXPECT_EQ(SetVersion(one.of(v1::CLUSTERS).resources), SetVersion(three.of(v1::CLUSTERS).resources));
}

}  // namespace
}  // namespace hermes::controlplane
