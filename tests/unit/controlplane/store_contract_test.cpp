// One suite of the stores' contract (version_store.h, fleet_store.h, rollout_store.h,
// stats_store.h, health_event_store.h), run against the SQLite stores on a real file and against
// the in-memory fakes, so that the fakes the other unit tests use cannot drift from what ships.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "controlplane/store/config_hash.h"
#include "controlplane/store/memory_stores.h"
#include "controlplane/store/schema.h"
#include "controlplane/store/sqlite_stores.h"
#include "store_suite.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

enum class Backend { kSqlite, kMemory };

class StoreContractTest : public StoresFixture, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kMemory) {
      memory_ = std::make_unique<MemoryStores>(clock_);
      return;
    }
    auto opened = SqliteStores::Open(dir_.path() / "store.db", clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    sqlite_ = std::move(opened).value();
  }

  VersionStore& versions() override {
    return memory_ ? static_cast<VersionStore&>(memory_->versions) : sqlite_->versions;
  }
  FleetStore& fleet() override {
    return memory_ ? static_cast<FleetStore&>(memory_->fleet) : sqlite_->fleet;
  }
  RolloutStore& rollouts() override {
    return memory_ ? static_cast<RolloutStore&>(memory_->rollouts) : sqlite_->rollouts;
  }
  StatsStore& stats() override {
    return memory_ ? static_cast<StatsStore&>(memory_->stats) : sqlite_->stats;
  }
  HealthEventStore& health() override {
    return memory_ ? static_cast<HealthEventStore&>(memory_->health) : sqlite_->health;
  }

  std::unique_ptr<SqliteStores> sqlite_;
  std::unique_ptr<MemoryStores> memory_;
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreContractTest,
                         ::testing::Values(Backend::kSqlite, Backend::kMemory),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Memory";
                         });

TEST_P(StoreContractTest, AnEmptyStoreHasNoCurrentVersionAndNoHistory) {
  auto current = versions().Current();
  ASSERT_TRUE(current.ok()) << current.error().message;
  EXPECT_FALSE(current->has_value());
  auto history = versions().History(10, std::nullopt);
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->empty());
}

TEST_P(StoreContractTest, TheCurrentHeaderIsTheNewestVersionWithoutItsConfig) {
  auto none = versions().CurrentHeader();
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(versions().Apply(SampleConfig("a"), "alice", "first").ok());
  ASSERT_TRUE(versions().Apply(SampleConfig("b"), "bob", "second").ok());
  auto header = versions().CurrentHeader();
  auto whole = versions().Current();
  ASSERT_TRUE(header.ok() && whole.ok());
  ASSERT_TRUE(header->has_value() && whole->has_value());
  EXPECT_EQ((*header)->id, 2);
  EXPECT_EQ((*header)->parent, std::optional<VersionId>(1));
  EXPECT_EQ((*header)->hash, (*whole)->hash);
  EXPECT_EQ((*header)->author, "bob");
  EXPECT_EQ((*header)->message, "second");
  EXPECT_EQ((*header)->created_at, (*whole)->created_at);
  EXPECT_EQ((*header)->config.ByteSizeLong(), 0u);
  EXPECT_GT((*whole)->config.ByteSizeLong(), 0u);
  // The same content again stores nothing and answers the current version whole.
  auto again = versions().Apply(SampleConfig("b"), "carol", "again");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version.id, 2);
  EXPECT_EQ(again->version.config.SerializeAsString(), (*whole)->config.SerializeAsString());
}

TEST_P(StoreContractTest, FirstApplyCreatesVersionOneWithNoParent) {
  const v1::Config config = SampleConfig("a");
  auto outcome = versions().Apply(config, "alice", "first");
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;

  EXPECT_TRUE(outcome->created);
  const ConfigVersion& v = outcome->version;
  EXPECT_EQ(v.id, 1);
  EXPECT_EQ(v.parent, std::nullopt);
  EXPECT_EQ(v.hash, Sha256Hex(SerializeDeterministic(config)));
  EXPECT_EQ(v.author, "alice");
  EXPECT_EQ(v.message, "first");
  EXPECT_EQ(v.created_at, kStart);
  EXPECT_TRUE(MessageDifferencer::Equals(v.config, config));
}

TEST_P(StoreContractTest, EachChangeCreatesTheNextVersionWithTheCurrentAsParent) {
  EXPECT_EQ(Apply("a").id, 1);
  const ConfigVersion v2 = Apply("b");
  const ConfigVersion v3 = Apply("c");
  EXPECT_EQ(v2.id, 2);
  EXPECT_EQ(v2.parent, 1);
  EXPECT_EQ(v3.id, 3);
  EXPECT_EQ(v3.parent, 2);
}

TEST_P(StoreContractTest, CreatedAtComesFromTheInjectedClock) {
  Apply("a");
  clock_.Advance(90s + 1234us);
  EXPECT_EQ(Apply("b").created_at, kStart + 90s + 1234us);
  auto stored = versions().Get(2);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->created_at, kStart + 90s + 1234us);
}

TEST_P(StoreContractTest, ApplyingTheCurrentContentAgainCreatesNoVersion) {
  const ConfigVersion v1 = Apply("a");
  auto again = versions().Apply(SampleConfig("a"), "bob", "same again");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version.id, 1);
  EXPECT_EQ(again->version.author, "alice");
  EXPECT_EQ(again->version.hash, v1.hash);
  EXPECT_THAT(Ids(*versions().History(10, std::nullopt)), ElementsAre(1));
}

TEST_P(StoreContractTest, ApplyingAnOlderContentAgainCreatesAVersion) {
  const ConfigVersion v1 = Apply("a");
  Apply("b");
  const ConfigVersion v3 = Apply("a");
  EXPECT_EQ(v3.id, 3);
  EXPECT_EQ(v3.hash, v1.hash);
}

TEST_P(StoreContractTest, CurrentIsTheNewestVersion) {
  Apply("a");
  Apply("b");
  auto current = versions().Current();
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(current->has_value());
  EXPECT_EQ((*current)->id, 2);
  EXPECT_TRUE(MessageDifferencer::Equals((*current)->config, SampleConfig("b")));
}

TEST_P(StoreContractTest, GetReturnsTheStoredVersion) {
  const ConfigVersion v1 = Apply("a");
  Apply("b");
  auto got = versions().Get(1);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->hash, v1.hash);
  EXPECT_EQ(got->message, "set a");
  EXPECT_TRUE(MessageDifferencer::Equals(got->config, SampleConfig("a")));
}

TEST_P(StoreContractTest, GetOfAnUnknownVersionIsNotFoundAndSaysWhat) {
  Apply("a");
  auto got = versions().Get(7);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(got.error().message, HasSubstr("get version 7: no version 7"));
}

TEST_P(StoreContractTest, HistoryListsVersionsNewestFirst) {
  for (const char* name : {"a", "b", "c"}) Apply(name);
  auto history = versions().History(10, std::nullopt);
  ASSERT_TRUE(history.ok());
  EXPECT_THAT(Ids(*history), ElementsAre(3, 2, 1));
  EXPECT_TRUE(MessageDifferencer::Equals((*history)[0].config, SampleConfig("c")));
}

TEST_P(StoreContractTest, HistoryPagesWithLimitAndBeforeId) {
  for (const char* name : {"a", "b", "c", "d", "e"}) Apply(name);
  EXPECT_THAT(Ids(*versions().History(2, std::nullopt)), ElementsAre(5, 4));
  EXPECT_THAT(Ids(*versions().History(2, 4)), ElementsAre(3, 2));
  EXPECT_THAT(Ids(*versions().History(2, 2)), ElementsAre(1));
  EXPECT_THAT(Ids(*versions().History(2, 1)), ElementsAre());
  EXPECT_THAT(Ids(*versions().History(0, std::nullopt)), ElementsAre());
}

TEST_P(StoreContractTest, RollbackCreatesANewVersionWithTheTargetsContentAndHash) {
  const ConfigVersion v1 = Apply("a");
  Apply("b");
  clock_.Advance(1min);

  auto rolled = versions().Rollback(1, "bob");
  ASSERT_TRUE(rolled.ok()) << rolled.error().message;
  EXPECT_TRUE(rolled->created);
  const ConfigVersion& v3 = rolled->version;
  EXPECT_EQ(v3.id, 3);
  EXPECT_EQ(v3.parent, 2);
  EXPECT_EQ(v3.hash, v1.hash);
  EXPECT_EQ(v3.author, "bob");
  EXPECT_EQ(v3.message, "rollback to v1");
  EXPECT_EQ(v3.created_at, kStart + 1min);
  EXPECT_TRUE(MessageDifferencer::Equals(v3.config, SampleConfig("a")));

  // Append-only: the versions rolled over are still there, unchanged.
  EXPECT_THAT(Ids(*versions().History(10, std::nullopt)), ElementsAre(3, 2, 1));
  EXPECT_TRUE(MessageDifferencer::Equals(versions().Get(2)->config, SampleConfig("b")));
  EXPECT_EQ((*versions().Current())->id, 3);
}

TEST_P(StoreContractTest, RollbackToTheCurrentContentCreatesNoVersion) {
  Apply("a");
  auto rolled = versions().Rollback(1, "bob");
  ASSERT_TRUE(rolled.ok()) << rolled.error().message;
  EXPECT_FALSE(rolled->created);
  EXPECT_EQ(rolled->version.id, 1);
}

TEST_P(StoreContractTest, RollbackToAnUnknownVersionIsNotFound) {
  Apply("a");
  auto rolled = versions().Rollback(9, "bob");
  ASSERT_FALSE(rolled.ok());
  EXPECT_EQ(rolled.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(rolled.error().message, HasSubstr("rollback to v9: no version 9"));
  EXPECT_THAT(Ids(*versions().History(10, std::nullopt)), ElementsAre(1));
}

TEST_P(StoreContractTest, ConcurrentAppliesGetConsecutiveIds) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) {
        auto outcome = versions().Apply(
            SampleConfig("t" + std::to_string(t) + "-" + std::to_string(i)), "alice", "");
        EXPECT_TRUE(outcome.ok() && outcome->created);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  auto history = versions().History(100, std::nullopt);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), static_cast<std::size_t>(kThreads * kEach));
  for (std::size_t i = 0; i < history->size(); ++i) {
    const ConfigVersion& v = (*history)[i];
    EXPECT_EQ(v.id, kThreads * kEach - static_cast<VersionId>(i));
    EXPECT_EQ(v.parent, v.id > 1 ? std::optional<VersionId>(v.id - 1) : std::nullopt);
  }
}

TEST_P(StoreContractTest, UpsertNodeStoresANewNode) {
  Register("proxy-1");
  const auto nodes = Nodes();
  ASSERT_EQ(nodes.size(), 1u);
  const NodeRecord& node = nodes[0].node;
  EXPECT_EQ(node.id, "proxy-1");
  EXPECT_EQ(node.group, "edge");
  EXPECT_EQ(node.labels, (std::map<std::string, std::string>{{"zone", "a"}}));
  EXPECT_EQ(node.address, "10.0.0.1:9000");
  EXPECT_EQ(node.connected_since, kStart);
  EXPECT_EQ(node.last_seen, kStart);
  EXPECT_TRUE(nodes[0].types.empty());
}

TEST_P(StoreContractTest, UpsertNodeReplacesGroupLabelsAddressAndTimes) {
  Register("proxy-1");
  clock_.Advance(1h);
  ASSERT_TRUE(fleet()
                  .UpsertNode({.id = "proxy-1",
                               .group = "internal",
                               .labels = {{"rack", "r7"}, {"tier", "gold"}},
                               .address = "10.0.0.2:9000",
                               .connected_since = clock_.Now(),
                               .last_seen = clock_.Now()})
                  .ok());
  const auto nodes = Nodes();
  ASSERT_EQ(nodes.size(), 1u);
  const NodeRecord& node = nodes[0].node;
  EXPECT_EQ(node.group, "internal");
  EXPECT_EQ(node.labels, (std::map<std::string, std::string>{{"rack", "r7"}, {"tier", "gold"}}));
  EXPECT_EQ(node.address, "10.0.0.2:9000");
  EXPECT_EQ(node.connected_since, kStart + 1h);
}

TEST_P(StoreContractTest, UpsertNodeRefusesAnEmptyId) {
  auto upserted = fleet().UpsertNode({.id = "", .group = "edge"});
  ASSERT_FALSE(upserted.ok());
  EXPECT_EQ(upserted.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(upserted.error().message, HasSubstr("node id is empty"));
}

TEST_P(StoreContractTest, RecordAckKeepsTheLastAckedVersionPerType) {
  Apply("a");
  Apply("b");
  Register("proxy-1");
  ASSERT_TRUE(fleet().RecordAck("proxy-1", "clusters", 1).ok());
  ASSERT_TRUE(fleet().RecordAck("proxy-1", "routes", 1).ok());
  clock_.Advance(5s);
  ASSERT_TRUE(fleet().RecordAck("proxy-1", "clusters", 2).ok());

  const auto nodes = Nodes();
  ASSERT_EQ(nodes.size(), 1u);
  const auto& types = nodes[0].types;
  ASSERT_EQ(types.size(), 2u);
  ASSERT_TRUE(types.at("clusters").acked.has_value());
  EXPECT_EQ(types.at("clusters").acked->version, 2);
  EXPECT_EQ(types.at("clusters").acked->at, kStart + 5s);
  EXPECT_EQ(types.at("routes").acked->version, 1);
  EXPECT_EQ(types.at("routes").acked->at, kStart);
  EXPECT_FALSE(types.at("clusters").last_nack.has_value());
}

TEST_P(StoreContractTest, RecordAckMarksTheNodeSeen) {
  Apply("a");
  Register("proxy-1");
  clock_.Advance(30s);
  ASSERT_TRUE(fleet().RecordAck("proxy-1", "listeners", 1).ok());
  EXPECT_EQ(Nodes().at(0).node.last_seen, kStart + 30s);
  EXPECT_EQ(Nodes().at(0).node.connected_since, kStart);
}

TEST_P(StoreContractTest, RecordNackKeepsTheLastNackPerTypeWithErrorAndTime) {
  Apply("a");
  Apply("b");
  Apply("c");
  Register("proxy-1");
  ASSERT_TRUE(fleet().RecordAck("proxy-1", "endpoints", 1).ok());
  ASSERT_TRUE(fleet().RecordNack("proxy-1", "endpoints", 2, "bad weight").ok());
  clock_.Advance(10s);
  ASSERT_TRUE(fleet().RecordNack("proxy-1", "endpoints", 3, "unknown cluster \"x\"").ok());

  const NodeTypeState endpoints = Nodes().at(0).types.at("endpoints");
  ASSERT_TRUE(endpoints.last_nack.has_value());
  EXPECT_EQ(endpoints.last_nack->version, 3);
  EXPECT_EQ(endpoints.last_nack->error, "unknown cluster \"x\"");
  EXPECT_EQ(endpoints.last_nack->at, kStart + 10s);
  ASSERT_TRUE(endpoints.acked.has_value());
  EXPECT_EQ(endpoints.acked->version, 1);
}

TEST_P(StoreContractTest, TheLastNackRemainsAfterALaterAck) {
  Apply("a");
  Apply("b");
  Apply("c");
  Register("proxy-1");
  ASSERT_TRUE(fleet().RecordNack("proxy-1", "routes", 2, "bad route").ok());
  ASSERT_TRUE(fleet().RecordAck("proxy-1", "routes", 3).ok());

  const NodeTypeState routes = Nodes().at(0).types.at("routes");
  EXPECT_EQ(routes.acked->version, 3);
  ASSERT_TRUE(routes.last_nack.has_value());
  EXPECT_EQ(routes.last_nack->version, 2);
}

TEST_P(StoreContractTest, AckOrNackFromAnUnknownNodeIsNotFound) {
  Apply("a");
  auto acked = fleet().RecordAck("ghost", "clusters", 1);
  ASSERT_FALSE(acked.ok());
  EXPECT_EQ(acked.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(acked.error().message, HasSubstr("record ACK of clusters v1 by node \"ghost\""));
  EXPECT_THAT(acked.error().message, HasSubstr("no node \"ghost\""));
  auto nacked = fleet().RecordNack("ghost", "clusters", 1, "x");
  ASSERT_FALSE(nacked.ok());
  EXPECT_EQ(nacked.error().kind, StoreErrorKind::kNotFound);
}

TEST_P(StoreContractTest, AckOfAnUnknownVersionIsNotFound) {
  Apply("a");
  Register("proxy-1");
  auto acked = fleet().RecordAck("proxy-1", "clusters", 5);
  ASSERT_FALSE(acked.ok());
  EXPECT_EQ(acked.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(acked.error().message, HasSubstr("no version 5"));
  EXPECT_TRUE(Nodes().at(0).types.empty());
}

TEST_P(StoreContractTest, ListNodesListsEveryNodeById) {
  Register("proxy-b");
  Register("proxy-c");
  Register("proxy-a");
  std::vector<std::string> ids;
  for (const auto& status : Nodes()) ids.push_back(status.node.id);
  EXPECT_THAT(ids, ElementsAre("proxy-a", "proxy-b", "proxy-c"));
}

TEST_P(StoreContractTest, TheFleetVersionIsKeptApartFromTheNewestVersion) {
  ASSERT_TRUE(versions().Apply(SampleConfig("a"), "t", "").ok());
  ASSERT_TRUE(versions().Apply(SampleConfig("b"), "t", "").ok());  // staged: not the fleet's
  EXPECT_TRUE(rollouts().FleetHistory(5).value().empty());
  ASSERT_TRUE(rollouts().SetFleetVersion(1, "apply by t").ok());
  ASSERT_TRUE(rollouts().SetFleetVersion(2, "rollout 1 completed").ok());
  auto history = rollouts().FleetHistory(5).value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 2);
  EXPECT_EQ(history[0].reason, "rollout 1 completed");
  EXPECT_EQ(history[1].version, 1);
  auto missing = rollouts().SetFleetVersion(9, "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, StoreErrorKind::kNotFound);
}

TEST_P(StoreContractTest, OnlyOneRolloutIsActiveAtATime) {
  ASSERT_TRUE(rollouts().SaveRollout({1, true, "first"}).ok());
  auto second = rollouts().SaveRollout({2, true, "second"});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, StoreErrorKind::kInvalidArgument);
  ASSERT_TRUE(rollouts().SaveRollout({1, false, "first, ended"}).ok());
  ASSERT_TRUE(rollouts().SaveRollout({2, true, "second"}).ok());
  auto all = rollouts().ListRollouts(10).value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, 2);
  EXPECT_TRUE(all[0].active);
  EXPECT_EQ(all[1].rollout, "first, ended");
  EXPECT_FALSE(all[1].active);
}

TEST_P(StoreContractTest, NodeStateIsRecordedInOneBatchSkippingWhatNamesNothing) {
  ASSERT_TRUE(versions().Apply(SampleConfig("a"), "t", "").ok());
  std::vector<NodeRecord> nodes = {{.id = "p1"}, {.id = "p2"}};
  std::vector<NodeEventRecord> events = {
      {"p1", "clusters", 1, std::nullopt},
      {"p2", "routes", 1, std::string("routes[0].cluster: unknown")},
      {"ghost", "clusters", 1, std::nullopt},  // never upserted: skipped
      {"p1", "routes", 9, std::nullopt},       // no such version: skipped
  };
  auto recorded = fleet().RecordNodeState(nodes, events);
  ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  EXPECT_EQ(recorded.value(), 2u);
  auto listed = fleet().ListNodes().value();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].types.at("clusters").acked->version, 1);
  EXPECT_FALSE(listed[0].types.contains("routes"));
  EXPECT_EQ(listed[1].types.at("routes").last_nack->error, "routes[0].cluster: unknown");
}

TEST_P(StoreContractTest, AnEmptyStoreHasNoEventsAndNoLatestHealth) {
  EXPECT_TRUE(List("", 50).empty());
  auto latest = health().LatestHealth();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_TRUE(latest->empty());
}

TEST_P(StoreContractTest, EventsAreListedNewestFirstWithEveryField) {
  Record({Event("web", "10.0.0.1:80", false, "HTTP 503", kStart),
          Event("web", "10.0.0.2:80", false, "connect: connection refused", kStart + 1s)});
  Record({Event("web", "10.0.0.1:80", true, "HTTP 200", kStart + 2s)});
  auto events = List("", 50);
  EXPECT_EQ(Reasons(events),
            (std::vector<std::string>{"HTTP 200", "connect: connection refused", "HTTP 503"}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].cluster, "web");
  EXPECT_EQ(events[0].address, "10.0.0.1:80");
  EXPECT_TRUE(events[0].healthy);
  EXPECT_EQ(events[0].at, kStart + 2s);
  EXPECT_FALSE(events[2].healthy);
}

TEST_P(StoreContractTest, ListingFiltersByClusterAndStopsAtTheLimit) {
  Record({Event("web", "a:80", false, "w1", kStart), Event("api", "b:80", false, "a1", kStart),
          Event("web", "a:80", true, "w2", kStart), Event("api", "b:80", true, "a2", kStart),
          Event("web", "a:80", false, "w3", kStart)});
  EXPECT_EQ(Reasons(List("web", 50)), (std::vector<std::string>{"w3", "w2", "w1"}));
  EXPECT_EQ(Reasons(List("api", 1)), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(Reasons(List("", 2)), (std::vector<std::string>{"w3", "a2"}));
  EXPECT_TRUE(List("nope", 50).empty());
}

TEST_P(StoreContractTest, TimesAreKeptToTheMillisecond) {
  Record({Event("web", "a:80", false, "x", kStart + 1234567us)});
  auto events = List("", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at, kStart + 1234ms);
}

TEST_P(StoreContractTest, LatestHealthIsTheLastEventOfEachEndpoint) {
  Record({Event("web", "a:80", false, "down", kStart), Event("web", "b:80", false, "down", kStart),
          Event("api", "a:80", false, "api down", kStart)});
  Record({Event("web", "a:80", true, "up again", kStart + 5s)});
  auto latest = health().LatestHealth();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  ASSERT_EQ(latest->size(), 3u);
  const auto& a = latest->at({"web", "a:80"});
  EXPECT_TRUE(a.healthy);
  EXPECT_EQ(a.reason, "up again");
  EXPECT_EQ(a.at, kStart + 5s);
  EXPECT_FALSE(latest->at({"web", "b:80"}).healthy);
  EXPECT_EQ(latest->at({"api", "a:80"}).reason, "api down");
}

TEST_P(StoreContractTest, AnEventWithoutClusterOrAddressRefusesTheWholeBatch) {
  auto recorded = health().RecordHealthEvents(
      {Event("web", "a:80", false, "ok", kStart), Event("web", "", false, "bad", kStart)});
  ASSERT_FALSE(recorded.ok());
  EXPECT_EQ(recorded.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(recorded.error().message, HasSubstr("event 1"));
  EXPECT_TRUE(List("", 10).empty());
}

TEST_P(StoreContractTest, OldEventsBeyondTheBoundAreDroppedButEachEndpointKeepsItsLast) {
  Record({Event("web", "stable:80", false, "down once", kStart)});
  std::vector<HealthEventRecord> flapping;
  for (std::int64_t i = 0; i <= HealthEventStore::kMaxEvents; ++i) {
    flapping.push_back(Event("web", "flaps:80", i % 2 == 0, "flap " + std::to_string(i), kStart));
  }
  Record(flapping);
  auto events = List("", 2 * HealthEventStore::kMaxEvents);
  // The newest kMaxHealthEvents (all flaps but the first) and the stable endpoint's only one.
  ASSERT_EQ(events.size(), static_cast<std::size_t>(HealthEventStore::kMaxEvents) + 1);
  EXPECT_EQ(events.front().reason, "flap " + std::to_string(HealthEventStore::kMaxEvents));
  EXPECT_EQ(events[events.size() - 2].reason, "flap 1");
  EXPECT_EQ(events.back().reason, "down once");
  auto latest = health().LatestHealth();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->at({"web", "stable:80"}).reason, "down once");
}

TEST_P(StoreContractTest, AnEmptyStoreHasNoStats) {
  StoredStats stats = Load();
  EXPECT_TRUE(stats.runs.empty());
  EXPECT_TRUE(stats.retired.empty());
}

TEST_P(StoreContractTest, SavedRunsAndRetiredCountsLoadBack) {
  Save({{RunRecord("p2", 7, 3, "run-7"), RunRecord("p1", 9, 1, "run-9"),
         RunRecord("p1", 4, 12, std::nullopt)},
        {{"p1", "retired-1"}}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 3u);
  // By node, then run id.
  EXPECT_EQ(stats.runs[0].node_id, "p1");
  EXPECT_EQ(stats.runs[0].run_id, 4u);
  EXPECT_EQ(stats.runs[0].sequence, 12u);
  EXPECT_FALSE(stats.runs[0].report.has_value());
  EXPECT_EQ(stats.runs[1].run_id, 9u);
  EXPECT_EQ(stats.runs[1].report, "run-9");
  EXPECT_EQ(stats.runs[2].node_id, "p2");
  EXPECT_EQ(stats.runs[2].sequence, 3u);
  EXPECT_EQ(stats.runs[2].started_at, kStart);
  EXPECT_EQ(stats.runs[2].last_report_at, kStart + 3s);
  ASSERT_EQ(stats.retired.size(), 1u);
  EXPECT_EQ(stats.retired[0].node_id, "p1");
  EXPECT_EQ(stats.retired[0].report, "retired-1");
}

TEST_P(StoreContractTest, AHigherSequenceReplacesTheRunsRecord) {
  Save({{RunRecord("p1", 7, 3, "three")}, {}});
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_EQ(stats.runs[0].report, "five");
  EXPECT_EQ(stats.runs[0].last_report_at, kStart + 5s);
}

TEST_P(StoreContractTest, AnOlderOrEqualSequenceLeavesTheRunsRecordAsItIs) {
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  Save({{RunRecord("p1", 7, 4, "four"), RunRecord("p1", 8, 1, "other run")}, {}});
  Save({{RunRecord("p1", 7, 5, "five again")}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 2u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_EQ(stats.runs[0].report, "five");
  EXPECT_EQ(stats.runs[1].report, "other run");
}

TEST_P(StoreContractTest, FoldingARunDropsItsReportAndKeepsItsSequence) {
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  Save({{RunRecord("p1", 7, 5, std::nullopt)}, {{"p1", "with run 7"}}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_FALSE(stats.runs[0].report.has_value());
  ASSERT_EQ(stats.retired.size(), 1u);
  EXPECT_EQ(stats.retired[0].report, "with run 7");
}

TEST_P(StoreContractTest, AFoldedRunNeverChangesAgain) {
  Save({{RunRecord("p1", 7, 5, std::nullopt)}, {}});
  Save({{RunRecord("p1", 7, 9, "nine")}, {}});
  Save({{RunRecord("p1", 7, 10, std::nullopt)}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_FALSE(stats.runs[0].report.has_value());
}

TEST_P(StoreContractTest, AFoldBelowTheStoredSequenceIsIgnored) {
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  Save({{RunRecord("p1", 7, 4, std::nullopt)}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].report, "five");
}

TEST_P(StoreContractTest, ARetiredRecordReplacesTheNodesPreviousOne) {
  Save({{}, {{"p1", "first"}, {"p2", "other"}}});
  Save({{}, {{"p1", "second"}}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.retired.size(), 2u);
  EXPECT_EQ(stats.retired[0].report, "second");
  EXPECT_EQ(stats.retired[1].report, "other");
}

TEST_P(StoreContractTest, RunIdsUseAllSixtyFourBits) {
  const std::uint64_t big = std::numeric_limits<std::uint64_t>::max();
  Save({{RunRecord("p1", big, 1, "max"), RunRecord("p1", big - 1, 1, "max-1"),
         RunRecord("p1", 0, 1, "zero")},
        {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 3u);
  std::set<std::uint64_t> ids;
  for (const auto& run : stats.runs) ids.insert(run.run_id);
  EXPECT_EQ(ids, (std::set<std::uint64_t>{0, big - 1, big}));
}

TEST_P(StoreContractTest, AnInvalidRecordRefusesTheWholeBatch) {
  auto saved =
      stats().SaveStats({{RunRecord("p1", 7, 1, "ok"), RunRecord("", 8, 1, "no node")}, {}});
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(saved.error().message, HasSubstr("empty node id"));
  EXPECT_TRUE(Load().runs.empty());
}

TEST_P(StoreContractTest, ASequenceBeyondInt64IsRefusedNamingTheRun) {
  auto saved = stats().SaveStats(
      {{RunRecord("p1", 7, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1,
                  "x")},
       {}});
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(saved.error().message, HasSubstr("run 7 of node \"p1\""));
}

TEST_P(StoreContractTest, TheFleetStickySecretIsGeneratedOnceAs64HexDigits) {
  auto first = fleet().FleetStickySecret();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_THAT(first.value(), ::testing::MatchesRegex("[0-9a-f]{64}"));
  auto again = fleet().FleetStickySecret();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), first.value());
}

TEST_P(StoreContractTest, ARolloutIdMustBePositive) {
  auto saved = rollouts().SaveRollout({0, false, "x"});
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(saved.error().message, HasSubstr("rollout id 0 is not positive"));
}

TEST_P(StoreContractTest, ARolloutSavedWithTheFleetsVersionWritesBothOrNeither) {
  Apply("a");
  clock_.Advance(3s);
  const FleetChange change{1, "rollout 1 completed", kStart};  // `at` is ignored: now
  ASSERT_TRUE(rollouts().SaveRollout({1, false, "done"}, &change).ok());
  auto history = rollouts().FleetHistory(5).value();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].reason, "rollout 1 completed");
  EXPECT_EQ(history[0].at, kStart + 3s);

  const FleetChange unknown{9, "x", kStart};
  auto refused = rollouts().SaveRollout({2, true, "second"}, &unknown);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, StoreErrorKind::kNotFound);
  EXPECT_EQ(rollouts().ListRollouts(10).value().size(), 1u);
  EXPECT_EQ(rollouts().FleetHistory(5).value().size(), 1u);
}

}  // namespace
}  // namespace hermes::controlplane
