// SqliteConfigStore on real files: versions (apply, history, rollback) and proxy node state.
#include "controlplane/store/sqlite_config_store.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "controlplane/store/config_hash.h"
#include "store_fixture.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 2024-05-01T12:00:00Z
const TimePoint kStart = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 12h;

std::vector<VersionId> Ids(const std::vector<ConfigVersion>& versions) {
  std::vector<VersionId> ids;
  for (const auto& v : versions) ids.push_back(v.id);
  return ids;
}

class SqliteConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto opened = SqliteConfigStore::Open(dir_.path() / "store.db", clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }

  ConfigVersion Apply(const std::string& name) {
    auto outcome = store_->Apply(SampleConfig(name), "alice", "set " + name);
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    return outcome.ok() ? outcome->version : ConfigVersion{};
  }

  void Register(const std::string& id) {
    auto upserted = store_->UpsertNode({.id = id,
                                        .group = "edge",
                                        .labels = {{"zone", "a"}},
                                        .address = "10.0.0.1:9000",
                                        .connected_since = clock_.Now(),
                                        .last_seen = clock_.Now()});
    ASSERT_TRUE(upserted.ok()) << upserted.error().message;
  }

  std::vector<NodeStatus> Nodes() {
    auto nodes = store_->ListNodes();
    EXPECT_TRUE(nodes.ok()) << nodes.error().message;
    return nodes.ok() ? *nodes : std::vector<NodeStatus>{};
  }

  TempDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<SqliteConfigStore> store_;
};

// ---- Versions ----

TEST_F(SqliteConfigStoreTest, AnEmptyStoreHasNoCurrentVersionAndNoHistory) {
  auto current = store_->Current();
  ASSERT_TRUE(current.ok()) << current.error().message;
  EXPECT_FALSE(current->has_value());
  auto history = store_->History(10, std::nullopt);
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->empty());
}

TEST_F(SqliteConfigStoreTest, FirstApplyCreatesVersionOneWithNoParent) {
  const v1::Config config = SampleConfig("a");
  auto outcome = store_->Apply(config, "alice", "first");
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

TEST_F(SqliteConfigStoreTest, EachChangeCreatesTheNextVersionWithTheCurrentAsParent) {
  EXPECT_EQ(Apply("a").id, 1);
  const ConfigVersion v2 = Apply("b");
  const ConfigVersion v3 = Apply("c");
  EXPECT_EQ(v2.id, 2);
  EXPECT_EQ(v2.parent, 1);
  EXPECT_EQ(v3.id, 3);
  EXPECT_EQ(v3.parent, 2);
}

TEST_F(SqliteConfigStoreTest, CreatedAtComesFromTheInjectedClock) {
  Apply("a");
  clock_.Advance(90s + 1234us);
  EXPECT_EQ(Apply("b").created_at, kStart + 90s + 1234us);
  auto stored = store_->Get(2);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->created_at, kStart + 90s + 1234us);
}

TEST_F(SqliteConfigStoreTest, ApplyingTheCurrentContentAgainCreatesNoVersion) {
  const ConfigVersion v1 = Apply("a");
  auto again = store_->Apply(SampleConfig("a"), "bob", "same again");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version.id, 1);
  EXPECT_EQ(again->version.author, "alice");
  EXPECT_EQ(again->version.hash, v1.hash);
  EXPECT_THAT(Ids(*store_->History(10, std::nullopt)), ElementsAre(1));
}

TEST_F(SqliteConfigStoreTest, ApplyingAnOlderContentAgainCreatesAVersion) {
  const ConfigVersion v1 = Apply("a");
  Apply("b");
  const ConfigVersion v3 = Apply("a");
  EXPECT_EQ(v3.id, 3);
  EXPECT_EQ(v3.hash, v1.hash);
}

TEST_F(SqliteConfigStoreTest, CurrentIsTheNewestVersion) {
  Apply("a");
  Apply("b");
  auto current = store_->Current();
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(current->has_value());
  EXPECT_EQ((*current)->id, 2);
  EXPECT_TRUE(MessageDifferencer::Equals((*current)->config, SampleConfig("b")));
}

TEST_F(SqliteConfigStoreTest, GetReturnsTheStoredVersion) {
  const ConfigVersion v1 = Apply("a");
  Apply("b");
  auto got = store_->Get(1);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->hash, v1.hash);
  EXPECT_EQ(got->message, "set a");
  EXPECT_TRUE(MessageDifferencer::Equals(got->config, SampleConfig("a")));
}

TEST_F(SqliteConfigStoreTest, GetOfAnUnknownVersionIsNotFoundAndSaysWhere) {
  Apply("a");
  auto got = store_->Get(7);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(got.error().message, HasSubstr(store_->path()));
  EXPECT_THAT(got.error().message, HasSubstr("get version 7: no version 7"));
}

TEST_F(SqliteConfigStoreTest, HistoryListsVersionsNewestFirst) {
  for (const char* name : {"a", "b", "c"}) Apply(name);
  auto history = store_->History(10, std::nullopt);
  ASSERT_TRUE(history.ok());
  EXPECT_THAT(Ids(*history), ElementsAre(3, 2, 1));
  EXPECT_TRUE(MessageDifferencer::Equals((*history)[0].config, SampleConfig("c")));
}

TEST_F(SqliteConfigStoreTest, HistoryPagesWithLimitAndBeforeId) {
  for (const char* name : {"a", "b", "c", "d", "e"}) Apply(name);
  EXPECT_THAT(Ids(*store_->History(2, std::nullopt)), ElementsAre(5, 4));
  EXPECT_THAT(Ids(*store_->History(2, 4)), ElementsAre(3, 2));
  EXPECT_THAT(Ids(*store_->History(2, 2)), ElementsAre(1));
  EXPECT_THAT(Ids(*store_->History(2, 1)), ElementsAre());
  EXPECT_THAT(Ids(*store_->History(0, std::nullopt)), ElementsAre());
}

TEST_F(SqliteConfigStoreTest, RollbackCreatesANewVersionWithTheTargetsContentAndHash) {
  const ConfigVersion v1 = Apply("a");
  Apply("b");
  clock_.Advance(1min);

  auto rolled = store_->Rollback(1, "bob");
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
  EXPECT_THAT(Ids(*store_->History(10, std::nullopt)), ElementsAre(3, 2, 1));
  EXPECT_TRUE(MessageDifferencer::Equals(store_->Get(2)->config, SampleConfig("b")));
  EXPECT_EQ((*store_->Current())->id, 3);
}

TEST_F(SqliteConfigStoreTest, RollbackToTheCurrentContentCreatesNoVersion) {
  Apply("a");
  auto rolled = store_->Rollback(1, "bob");
  ASSERT_TRUE(rolled.ok()) << rolled.error().message;
  EXPECT_FALSE(rolled->created);
  EXPECT_EQ(rolled->version.id, 1);
}

TEST_F(SqliteConfigStoreTest, RollbackToAnUnknownVersionIsNotFound) {
  Apply("a");
  auto rolled = store_->Rollback(9, "bob");
  ASSERT_FALSE(rolled.ok());
  EXPECT_EQ(rolled.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(rolled.error().message, HasSubstr("rollback to v9: no version 9"));
  EXPECT_THAT(Ids(*store_->History(10, std::nullopt)), ElementsAre(1));
}

TEST_F(SqliteConfigStoreTest, VersionsPersistAcrossReopen) {
  std::vector<ConfigVersion> applied;
  for (const char* name : {"a", "b", "c"}) {
    applied.push_back(Apply(name));
    clock_.Advance(1s);
  }
  Reopen();

  auto history = store_->History(10, std::nullopt);
  ASSERT_TRUE(history.ok()) << history.error().message;
  ASSERT_EQ(history->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const ConfigVersion& before = applied[2 - i];
    const ConfigVersion& after = (*history)[i];
    EXPECT_EQ(after.id, before.id);
    EXPECT_EQ(after.parent, before.parent);
    EXPECT_EQ(after.hash, before.hash);
    EXPECT_EQ(after.author, before.author);
    EXPECT_EQ(after.message, before.message);
    EXPECT_EQ(after.created_at, before.created_at);
    EXPECT_TRUE(MessageDifferencer::Equals(after.config, before.config));
  }
  const ConfigVersion v4 = Apply("d");
  EXPECT_EQ(v4.id, 4);
  EXPECT_EQ(v4.parent, 3);
}

TEST_F(SqliteConfigStoreTest, TheFleetStickySecretIsGeneratedOnceAndSurvivesReopen) {
  auto first = store_->FleetStickySecret();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_THAT(first.value(), ::testing::MatchesRegex("[0-9a-f]{64}"));
  auto again = store_->FleetStickySecret();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), first.value());
  Reopen();
  auto reopened = store_->FleetStickySecret();
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(reopened.value(), first.value());
}

TEST_F(SqliteConfigStoreTest, EachStoreGeneratesItsOwnFleetStickySecret) {
  auto opened = SqliteConfigStore::Open(dir_.path() / "other.db", clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto mine = store_->FleetStickySecret();
  auto other = opened.value()->FleetStickySecret();
  ASSERT_TRUE(mine.ok() && other.ok());
  EXPECT_NE(mine.value(), other.value());
}

TEST_F(SqliteConfigStoreTest, ConcurrentAppliesGetConsecutiveIds) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) {
        auto outcome = store_->Apply(
            SampleConfig("t" + std::to_string(t) + "-" + std::to_string(i)), "alice", "");
        EXPECT_TRUE(outcome.ok() && outcome->created);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  auto history = store_->History(100, std::nullopt);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), static_cast<std::size_t>(kThreads * kEach));
  for (std::size_t i = 0; i < history->size(); ++i) {
    const ConfigVersion& v = (*history)[i];
    EXPECT_EQ(v.id, kThreads * kEach - static_cast<VersionId>(i));
    EXPECT_EQ(v.parent, v.id > 1 ? std::optional<VersionId>(v.id - 1) : std::nullopt);
  }
}

// ---- Nodes ----

TEST_F(SqliteConfigStoreTest, UpsertNodeStoresANewNode) {
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

TEST_F(SqliteConfigStoreTest, UpsertNodeReplacesGroupLabelsAddressAndTimes) {
  Register("proxy-1");
  clock_.Advance(1h);
  ASSERT_TRUE(store_
                  ->UpsertNode({.id = "proxy-1",
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

TEST_F(SqliteConfigStoreTest, UpsertNodeRefusesAnEmptyId) {
  auto upserted = store_->UpsertNode({.id = "", .group = "edge"});
  ASSERT_FALSE(upserted.ok());
  EXPECT_EQ(upserted.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(upserted.error().message, HasSubstr("node id is empty"));
}

TEST_F(SqliteConfigStoreTest, RecordAckKeepsTheLastAckedVersionPerType) {
  Apply("a");
  Apply("b");
  Register("proxy-1");
  ASSERT_TRUE(store_->RecordAck("proxy-1", "clusters", 1).ok());
  ASSERT_TRUE(store_->RecordAck("proxy-1", "routes", 1).ok());
  clock_.Advance(5s);
  ASSERT_TRUE(store_->RecordAck("proxy-1", "clusters", 2).ok());

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

TEST_F(SqliteConfigStoreTest, RecordAckMarksTheNodeSeen) {
  Apply("a");
  Register("proxy-1");
  clock_.Advance(30s);
  ASSERT_TRUE(store_->RecordAck("proxy-1", "listeners", 1).ok());
  EXPECT_EQ(Nodes().at(0).node.last_seen, kStart + 30s);
  EXPECT_EQ(Nodes().at(0).node.connected_since, kStart);
}

TEST_F(SqliteConfigStoreTest, RecordNackKeepsTheLastNackPerTypeWithErrorAndTime) {
  Apply("a");
  Apply("b");
  Apply("c");
  Register("proxy-1");
  ASSERT_TRUE(store_->RecordAck("proxy-1", "endpoints", 1).ok());
  ASSERT_TRUE(store_->RecordNack("proxy-1", "endpoints", 2, "bad weight").ok());
  clock_.Advance(10s);
  ASSERT_TRUE(store_->RecordNack("proxy-1", "endpoints", 3, "unknown cluster \"x\"").ok());

  const NodeTypeState endpoints = Nodes().at(0).types.at("endpoints");
  ASSERT_TRUE(endpoints.last_nack.has_value());
  EXPECT_EQ(endpoints.last_nack->version, 3);
  EXPECT_EQ(endpoints.last_nack->error, "unknown cluster \"x\"");
  EXPECT_EQ(endpoints.last_nack->at, kStart + 10s);
  ASSERT_TRUE(endpoints.acked.has_value());
  EXPECT_EQ(endpoints.acked->version, 1);
}

TEST_F(SqliteConfigStoreTest, TheLastNackRemainsAfterALaterAck) {
  Apply("a");
  Apply("b");
  Apply("c");
  Register("proxy-1");
  ASSERT_TRUE(store_->RecordNack("proxy-1", "routes", 2, "bad route").ok());
  ASSERT_TRUE(store_->RecordAck("proxy-1", "routes", 3).ok());

  const NodeTypeState routes = Nodes().at(0).types.at("routes");
  EXPECT_EQ(routes.acked->version, 3);
  ASSERT_TRUE(routes.last_nack.has_value());
  EXPECT_EQ(routes.last_nack->version, 2);
}

TEST_F(SqliteConfigStoreTest, AckOrNackFromAnUnknownNodeIsNotFound) {
  Apply("a");
  auto acked = store_->RecordAck("ghost", "clusters", 1);
  ASSERT_FALSE(acked.ok());
  EXPECT_EQ(acked.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(acked.error().message, HasSubstr("record ACK of clusters v1 by node \"ghost\""));
  EXPECT_THAT(acked.error().message, HasSubstr("no node \"ghost\""));
  auto nacked = store_->RecordNack("ghost", "clusters", 1, "x");
  ASSERT_FALSE(nacked.ok());
  EXPECT_EQ(nacked.error().kind, StoreErrorKind::kNotFound);
}

TEST_F(SqliteConfigStoreTest, AckOfAnUnknownVersionIsNotFound) {
  Apply("a");
  Register("proxy-1");
  auto acked = store_->RecordAck("proxy-1", "clusters", 5);
  ASSERT_FALSE(acked.ok());
  EXPECT_EQ(acked.error().kind, StoreErrorKind::kNotFound);
  EXPECT_THAT(acked.error().message, HasSubstr("no version 5"));
  EXPECT_TRUE(Nodes().at(0).types.empty());
}

TEST_F(SqliteConfigStoreTest, ListNodesListsEveryNodeById) {
  Register("proxy-b");
  Register("proxy-c");
  Register("proxy-a");
  std::vector<std::string> ids;
  for (const auto& status : Nodes()) ids.push_back(status.node.id);
  EXPECT_THAT(ids, ElementsAre("proxy-a", "proxy-b", "proxy-c"));
}

TEST_F(SqliteConfigStoreTest, NodesPersistAcrossReopen) {
  Apply("a");
  Register("proxy-1");
  ASSERT_TRUE(store_->RecordAck("proxy-1", "clusters", 1).ok());
  ASSERT_TRUE(store_->RecordNack("proxy-1", "routes", 1, "no such cluster").ok());
  Reopen();

  const auto nodes = Nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].node.labels.at("zone"), "a");
  EXPECT_EQ(nodes[0].types.at("clusters").acked->version, 1);
  EXPECT_EQ(nodes[0].types.at("routes").last_nack->error, "no such cluster");
}

TEST_F(SqliteConfigStoreTest, TheFleetVersionIsKeptApartFromTheNewestVersion) {
  ASSERT_TRUE(store_->Apply(SampleConfig("a"), "t", "").ok());
  ASSERT_TRUE(store_->Apply(SampleConfig("b"), "t", "").ok());  // staged: not the fleet's
  EXPECT_TRUE(store_->FleetHistory(5).value().empty());
  ASSERT_TRUE(store_->SetFleetVersion(1, "apply by t").ok());
  ASSERT_TRUE(store_->SetFleetVersion(2, "rollout 1 completed").ok());
  auto history = store_->FleetHistory(5).value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 2);
  EXPECT_EQ(history[0].reason, "rollout 1 completed");
  EXPECT_EQ(history[1].version, 1);
  auto missing = store_->SetFleetVersion(9, "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, StoreErrorKind::kNotFound);
}

TEST_F(SqliteConfigStoreTest, OnlyOneRolloutIsActiveAtATime) {
  ASSERT_TRUE(store_->SaveRollout({1, true, "first"}).ok());
  auto second = store_->SaveRollout({2, true, "second"});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, StoreErrorKind::kInvalidArgument);
  ASSERT_TRUE(store_->SaveRollout({1, false, "first, ended"}).ok());
  ASSERT_TRUE(store_->SaveRollout({2, true, "second"}).ok());
  auto all = store_->ListRollouts(10).value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, 2);
  EXPECT_TRUE(all[0].active);
  EXPECT_EQ(all[1].rollout, "first, ended");
  EXPECT_FALSE(all[1].active);
}

TEST_F(SqliteConfigStoreTest, NodeStateIsRecordedInOneBatchSkippingWhatNamesNothing) {
  ASSERT_TRUE(store_->Apply(SampleConfig("a"), "t", "").ok());
  std::vector<NodeRecord> nodes = {{.id = "p1"}, {.id = "p2"}};
  std::vector<NodeEventRecord> events = {
      {"p1", "clusters", 1, std::nullopt},
      {"p2", "routes", 1, std::string("routes[0].cluster: unknown")},
      {"ghost", "clusters", 1, std::nullopt},  // never upserted: skipped
      {"p1", "routes", 9, std::nullopt},       // no such version: skipped
  };
  auto recorded = store_->RecordNodeState(nodes, events);
  ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  EXPECT_EQ(recorded.value(), 2u);
  auto listed = store_->ListNodes().value();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].types.at("clusters").acked->version, 1);
  EXPECT_FALSE(listed[0].types.contains("routes"));
  EXPECT_EQ(listed[1].types.at("routes").last_nack->error, "routes[0].cluster: unknown");
}

}  // namespace
}  // namespace hermes::controlplane
