// The discovery protocol over a real gRPC stream on loopback: an in-process DiscoveryServer
// (the control plane's) and a raw client stream that plays the proxy, so every protocol rule is
// checked on the wire: subscription, ordering, ACK, NACK (recorded, never re-sent), stale
// nonces, backpressure, auth, the fleet's sticky-session key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <google/protobuf/text_format.h>

#include "controlplane/discovery/discovery_server.h"
#include "controlplane/rollout/rollout_engine.h"
#include "controlplane/store/sqlite_stores.h"
#include "hermes/common/clock.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using Stream = grpc::ClientReaderWriter<v1::DiscoveryRequest, v1::DiscoveryResponse>;

v1::Config Config(int port) {
  v1::Config c;
  std::string text = "clusters { name: 'web' endpoints { address: '127.0.0.1:" + std::to_string(port) +
                     "' } }\nroutes { name: 'all' cluster: 'web' }\nlisteners { address: ':8080' }\n";
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c));
  return c;
}

// The control plane's clock as a test sets it (read from gRPC threads, so atomic). Starts at the
// real time, so tests that do not set it see the times they always saw.
class SettableClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(now_.load()));
  }
  void Set(std::chrono::system_clock::time_point t) { now_ = t.time_since_epoch().count(); }
  void Advance(std::chrono::system_clock::duration by) { now_ += by.count(); }

 private:
  std::atomic<std::chrono::system_clock::rep> now_{
      std::chrono::system_clock::now().time_since_epoch().count()};
};

class DiscoveryStreamTest : public ::testing::Test {
 protected:
  void Start(std::string token = "") {
    char pattern[] = "/tmp/hermes-discovery-XXXXXX";
    dir_ = mkdtemp(pattern);
    auto opened = SqliteStores::Open(dir_ + "/hermes.db", clock_);
    ASSERT_TRUE(opened.ok());
    store_ = std::move(opened.value());
    // As hermes-controlplane wires it: the fleet's sticky-session key from the store.
    auto sticky_secret = store_->fleet.FleetStickySecret();
    ASSERT_TRUE(sticky_secret.ok()) << sticky_secret.error().message;
    fleet_sticky_secret_ = sticky_secret.value();
    discovery_ = std::make_unique<DiscoveryServer>(&store_->fleet, clock_, token, fleet_sticky_secret_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(discovery_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
    stub_ = v1::AggregatedDiscovery::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 1s);
    discovery_.reset();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Stores and publishes `config` as the next version.
  int64_t Publish(const v1::Config& config) {
    auto applied = store_->versions.Apply(config, "test", "");
    EXPECT_TRUE(applied.ok());
    discovery_->Publish(applied.value().version.id, config);
    return applied.value().version.id;
  }

  std::unique_ptr<Stream> Open(grpc::ClientContext& context, const std::string& node = "p1",
                               const std::map<std::string, std::string>& labels = {}) {
    context.set_deadline(std::chrono::system_clock::now() + 20s);
    auto stream = stub_->Stream(&context);
    for (auto t : {v1::CLUSTERS, v1::ENDPOINTS, v1::ROUTES, v1::LISTENERS}) {
      v1::DiscoveryRequest r;
      if (t == v1::CLUSTERS) {
        r.mutable_node()->set_id(node);
        for (const auto& [k, v] : labels) (*r.mutable_node()->mutable_labels())[k] = v;
      }
      r.set_type(t);
      EXPECT_TRUE(stream->Write(r));
    }
    return stream;
  }

  static v1::DiscoveryRequest Ack(const v1::DiscoveryResponse& r) {
    v1::DiscoveryRequest a;
    a.set_type(r.type());
    a.set_version_info(r.version_info());
    a.set_response_nonce(r.nonce());
    return a;
  }

  // Reads the next response, ACKs it, returns it.
  static v1::DiscoveryResponse ReadAck(Stream& s) {
    v1::DiscoveryResponse r;
    EXPECT_TRUE(s.Read(&r));
    EXPECT_TRUE(s.Write(Ack(r)));
    return r;
  }

  bool WaitFor(const std::function<bool(const StreamStatus&)>& check) {
    for (int i = 0; i < 400; ++i) {
      for (const auto& s : discovery_->Proxies())
        if (check(s)) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  SettableClock clock_;
  std::string dir_;
  std::string fleet_sticky_secret_;
  std::unique_ptr<SqliteStores> store_;
  std::unique_ptr<DiscoveryServer> discovery_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AggregatedDiscovery::Stub> stub_;
};

TEST_F(DiscoveryStreamTest, ProxyGetsEveryTypeInOrderAndIsSyncedAfterItsAcks) {
  Start();
  Publish(Config(9001));
  grpc::ClientContext context;
  auto stream = Open(context);
  std::vector<v1::ResourceType> order;
  for (int i = 0; i < 4; ++i) order.push_back(ReadAck(*stream).type());
  EXPECT_EQ(order, (std::vector<v1::ResourceType>{v1::CLUSTERS, v1::ENDPOINTS, v1::ROUTES, v1::LISTENERS}));
  EXPECT_TRUE(WaitFor([](const StreamStatus& s) { return s.node.id() == "p1" && s.in_sync; }));
  // ACKs reach the store (written in the background).
  bool recorded = false;
  for (int i = 0; i < 400 && !recorded; ++i) {
    auto nodes = store_->fleet.ListNodes();
    recorded = nodes.ok() && nodes.value().size() == 1 && nodes.value()[0].types.size() == 4;
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(recorded);
}

TEST_F(DiscoveryStreamTest, NackIsRecordedAndTheVersionIsNotSentAgainButTheNextOneIs) {
  Start();
  Publish(Config(9001));
  grpc::ClientContext context;
  auto stream = Open(context);
  for (int i = 0; i < 4; ++i) ReadAck(*stream);
  int64_t bad = Publish(Config(9002));
  v1::DiscoveryResponse update;
  ASSERT_TRUE(stream->Read(&update));
  EXPECT_EQ(update.type(), v1::ENDPOINTS);
  v1::DiscoveryRequest nack = Ack(update);
  nack.set_version_info("previous");
  nack.mutable_error_detail()->set_message("clusters[0]: cannot apply");
  ASSERT_TRUE(stream->Write(nack));
  EXPECT_TRUE(WaitFor([](const StreamStatus& s) {
    return s.last_nack && s.last_nack->error == "clusters[0]: cannot apply";
  }));
  bool stored = false;
  for (int i = 0; i < 400 && !stored; ++i) {
    auto nodes = store_->fleet.ListNodes();
    if (nodes.ok() && !nodes.value().empty()) {
      auto it = nodes.value()[0].types.find("endpoints");
      stored = it != nodes.value()[0].types.end() && it->second.last_nack &&
               it->second.last_nack->version == bad;
    }
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(stored);

  discovery_->Publish(bad, Config(9002));  // the same content again: nothing is sent
  Publish(Config(9003));                   // a new version is
  v1::DiscoveryResponse next;
  ASSERT_TRUE(stream->Read(&next));
  EXPECT_EQ(next.type(), v1::ENDPOINTS);
  EXPECT_EQ(next.resources(0).endpoints().endpoints(0).address(), "127.0.0.1:9003");
}

TEST_F(DiscoveryStreamTest, ListenersCarryTheFleetStickySecretUnlessTheConfigHasItsOwn) {
  Start();
  ASSERT_EQ(fleet_sticky_secret_.size(), 64u);
  Publish(Config(9001));
  grpc::ClientContext context;
  auto stream = Open(context);
  v1::DiscoveryResponse listeners;
  for (int i = 0; i < 4; ++i) listeners = ReadAck(*stream);
  ASSERT_EQ(listeners.type(), v1::LISTENERS);
  EXPECT_EQ(listeners.resources(0).listeners().sticky_secret(), fleet_sticky_secret_);
  // The stored version is the config as applied: no secret in history, diff or get config.
  auto current = store_->versions.Current();
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->config.sticky_secret(), "");

  v1::Config own = Config(9001);
  own.set_sticky_secret("the config's own secret, 16+ bytes");
  Publish(own);
  v1::DiscoveryResponse update;
  ASSERT_TRUE(stream->Read(&update));
  ASSERT_EQ(update.type(), v1::LISTENERS) << "only the listeners resource changed";
  EXPECT_EQ(update.resources(0).listeners().sticky_secret(), own.sticky_secret());
}

TEST_F(DiscoveryStreamTest, StaleNonceIsIgnoredAndTheOutstandingResponseStaysUnacked) {
  Start();
  Publish(Config(9001));
  grpc::ClientContext context;
  auto stream = Open(context);
  v1::DiscoveryResponse clusters;
  ASSERT_TRUE(stream->Read(&clusters));
  v1::DiscoveryRequest stale = Ack(clusters);
  stale.set_response_nonce("not-a-nonce");
  ASSERT_TRUE(stream->Write(stale));
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(WaitFor([](const StreamStatus& s) { return s.pending.at(v1::CLUSTERS) && !s.in_sync; }));
  ASSERT_TRUE(stream->Write(Ack(clusters)));
  v1::DiscoveryResponse endpoints;
  ASSERT_TRUE(stream->Read(&endpoints));  // the real ACK moves it on
  EXPECT_EQ(endpoints.type(), v1::ENDPOINTS);
}

TEST_F(DiscoveryStreamTest, ChangesWhileAResponseIsUnackedAreCoalesced) {
  Start();
  Publish(Config(9001));
  grpc::ClientContext context;
  auto stream = Open(context);
  for (int i = 0; i < 4; ++i) ReadAck(*stream);
  Publish(Config(9002));
  v1::DiscoveryResponse first;
  ASSERT_TRUE(stream->Read(&first));
  for (int port = 9003; port <= 9010; ++port) Publish(Config(port));
  ASSERT_TRUE(stream->Write(Ack(first)));
  v1::DiscoveryResponse next;
  ASSERT_TRUE(stream->Read(&next));
  EXPECT_EQ(next.resources(0).endpoints().endpoints(0).address(), "127.0.0.1:9010");
}

TEST_F(DiscoveryStreamTest, FirstRequestWithoutANodeIdEndsTheStream) {
  Start();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = stub_->Stream(&context);
  v1::DiscoveryRequest r;
  r.set_type(v1::CLUSTERS);
  stream->Write(r);
  stream->WritesDone();
  v1::DiscoveryResponse ignored;
  while (stream->Read(&ignored)) {}
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("node.id"), std::string::npos);
}

TEST_F(DiscoveryStreamTest, WithATokenAStreamWithoutItIsRefused) {
  Start("s3cret");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = stub_->Stream(&context);
  v1::DiscoveryResponse ignored;
  while (stream->Read(&ignored)) {}
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  grpc::ClientContext authorized;
  authorized.AddMetadata("authorization", "Bearer s3cret");
  Publish(Config(9001));
  auto ok = Open(authorized);
  v1::DiscoveryResponse r;
  EXPECT_TRUE(ok->Read(&r));
}

// Reads and ACKs the four types of one full config.
void SyncOnce(Stream& s) {
  for (int i = 0; i < 4; ++i) {
    v1::DiscoveryResponse r;
    EXPECT_TRUE(s.Read(&r));
    v1::DiscoveryRequest a;
    a.set_type(r.type());
    a.set_version_info(r.version_info());
    a.set_response_nonce(r.nonce());
    EXPECT_TRUE(s.Write(a));
  }
}

TEST_F(DiscoveryStreamTest, AMovedProxyGetsTheRolloutsVersionAndReturnsWhenItEnds) {
  Start();
  int64_t v1 = Publish(Config(9001));
  auto v2_applied = store_->versions.Apply(Config(9002), "test", "");
  ASSERT_TRUE(v2_applied.ok());
  const int64_t v2 = v2_applied.value().version.id;
  grpc::ClientContext c1, c2;
  auto s1 = Open(c1, "p1");
  auto s2 = Open(c2, "p2");
  SyncOnce(*s1);
  SyncOnce(*s2);
  ASSERT_TRUE(WaitFor([&](const StreamStatus& s) { return s.node.id() == "p2" && s.running_version == v1; }));

  RolloutAssignment a;
  a.rollout_id = 1;
  a.version = v2;
  a.config = Config(9002);
  a.share = 5000;
  a.moved = {"p1"};
  discovery_->SetRollout(a);
  // p1 gets v2's clusters and endpoints (routes and listeners are equal and not re-sent).
  v1::DiscoveryResponse r = ReadAck(*s1);
  EXPECT_EQ(r.type(), v1::ENDPOINTS);
  EXPECT_TRUE(WaitFor([&](const StreamStatus& s) {
    return s.node.id() == "p1" && s.running_version == v2 && s.in_rollout;
  }));
  for (const auto& s : discovery_->Proxies())
    if (s.node.id() == "p2") {
      EXPECT_EQ(s.config_version, v1);
    }

  // The rollout ends: p1 goes back to the older version.
  discovery_->SetRollout(std::nullopt);
  r = ReadAck(*s1);
  EXPECT_EQ(r.type(), v1::ENDPOINTS);
  EXPECT_TRUE(WaitFor([&](const StreamStatus& s) {
    return s.node.id() == "p1" && s.running_version == v1 && !s.in_rollout;
  }));
  s1->WritesDone();
  s2->WritesDone();
  c1.TryCancel();
  c2.TryCancel();
}

TEST_F(DiscoveryStreamTest, AProxyThatConnectsDuringARolloutIsPlacedByItsStepsShare) {
  Start();
  Publish(Config(9001));
  auto v2_applied = store_->versions.Apply(Config(9002), "test", "");
  const int64_t v2 = v2_applied.value().version.id;
  grpc::ClientContext c1;
  auto s1 = Open(c1, "a");
  SyncOnce(*s1);
  ASSERT_TRUE(WaitFor([&](const StreamStatus& s) { return s.node.id() == "a" && s.in_sync; }));
  RolloutAssignment a;
  a.rollout_id = 7;
  a.version = v2;
  a.config = Config(9002);
  a.share = 10000;  // the last step: every selected proxy
  a.selector = {{"zone", "eu"}};
  discovery_->SetRollout(a);  // "a" has no zone label: not selected

  // A selected proxy that connects now is moved at once; the moved set says so.
  grpc::ClientContext c2;
  auto s2 = Open(c2, "eu-1", {{"zone", "eu"}});
  SyncOnce(*s2);
  EXPECT_TRUE(WaitFor([&](const StreamStatus& s) { return s.node.id() == "eu-1" && s.running_version == v2; }));
  EXPECT_EQ(discovery_->RolloutMoved(), (std::set<std::string>{"eu-1"}));
  for (const auto& s : discovery_->Proxies())
    if (s.node.id() == "a") {
      EXPECT_FALSE(s.in_rollout);
    }

  // Paused: a newcomer gets the fleet's version.
  a.admit_joiners = false;
  discovery_->SetRollout(a);
  grpc::ClientContext c3;
  auto s3 = Open(c3, "eu-2", {{"zone", "eu"}});
  SyncOnce(*s3);
  EXPECT_TRUE(WaitFor([&](const StreamStatus& s) { return s.node.id() == "eu-2" && s.in_sync && !s.in_rollout; }));
  EXPECT_EQ(discovery_->RolloutMoved(), (std::set<std::string>{"eu-1"}));
  for (auto* c : {&c1, &c2, &c3}) c->TryCancel();
}

TEST_F(DiscoveryStreamTest, DrainIsSentToTheNodeAndItsReportedProgressShows) {
  Start();
  Publish(Config(9001));
  grpc::ClientContext context;
  auto stream = Open(context, "p1");
  SyncOnce(*stream);
  EXPECT_FALSE(discovery_->Drain("nobody"));
  ASSERT_TRUE(discovery_->Drain("p1"));
  v1::DiscoveryResponse command;
  ASSERT_TRUE(stream->Read(&command));
  EXPECT_TRUE(command.has_drain());
  EXPECT_EQ(command.type(), v1::RESOURCE_TYPE_UNSPECIFIED);
  EXPECT_TRUE(command.nonce().empty());
  EXPECT_TRUE(WaitFor([](const StreamStatus& s) { return s.drain == StreamStatus::Drain::kDraining; }));

  v1::DiscoveryRequest progress;
  progress.mutable_drain_status()->set_active_connections(3);
  ASSERT_TRUE(stream->Write(progress));
  EXPECT_TRUE(WaitFor([](const StreamStatus& s) { return s.active_connections == 3; }));
  progress.mutable_drain_status()->set_active_connections(0);
  progress.mutable_drain_status()->set_drained(true);
  ASSERT_TRUE(stream->Write(progress));
  EXPECT_TRUE(WaitFor([](const StreamStatus& s) {
    return s.drain == StreamStatus::Drain::kDrained && s.active_connections == 0 && s.in_sync;
  }));
  context.TryCancel();
}

// The stream's times come from the control plane's clock, the one the rollout gate reads: under a
// clock two years behind the wall, a moved proxy that never ACKs still fails the gate once the
// interval has passed on that clock (with wall-clock stamps it would look given its target in
// the gate's future, and never time out).
TEST_F(DiscoveryStreamTest, AMovedProxyThatNeverAcksFailsTheGateAfterTheIntervalOnTheInjectedClock) {
  const auto start = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 12h;
  clock_.Set(start);
  Start();
  grpc::ClientContext context;
  auto stream = Open(context);
  Publish(Config(9001));
  for (int i = 0; i < 4; ++i) ReadAck(*stream);
  ASSERT_TRUE(WaitFor([](const StreamStatus& s) { return s.in_sync; }));

  RolloutEngine engine(
      store_->versions, store_->rollouts, *discovery_, clock_,
      [](std::chrono::seconds, const std::set<std::string>&) {
        return std::make_pair(rollout::Traffic{}, rollout::Traffic{});
      },
      nullptr);
  ASSERT_TRUE(engine.Restore());
  auto v2 = store_->versions.Apply(Config(9002), "test", "");
  ASSERT_TRUE(v2.ok());
  v1::StartRolloutRequest request;
  request.set_version(static_cast<uint64_t>(v2->version.id));
  request.add_steps_percent(100);
  request.set_interval_ms(10000);
  request.set_auto_promote(true);
  request.set_author("alice");
  v1::Rollout started;
  ASSERT_TRUE(engine.Start(request, &started).ok());
  // Moved: the stream has the new target (and reads, but never ACKs, what it is sent).
  ASSERT_TRUE(WaitFor([&](const StreamStatus& s) {
    return s.config_version == v2->version.id && s.target_since == start;
  }));
  for (const StreamStatus& s : discovery_->Proxies()) {
    EXPECT_EQ(s.connected_since, start);
  }

  clock_.Advance(9s);
  engine.Tick();
  EXPECT_EQ(engine.active().state(), v1::ROLLOUT_RUNNING);
  clock_.Advance(2s);
  engine.Tick();
  v1::Rollout ended;
  ASSERT_TRUE(engine.Get(started.id(), &ended).ok());
  EXPECT_EQ(ended.state(), v1::ROLLOUT_ABORTED);
  EXPECT_THAT(ended.reason(), ::testing::HasSubstr("did not ACK the version within the interval"));
  engine.Stop();
}

}  // namespace
}  // namespace hermes::controlplane
