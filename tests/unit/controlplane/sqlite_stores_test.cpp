// What only the SQLite stores promise: everything survives reopening the file, each file has its
// own fleet secret, errors name the file, and an older file is migrated (the contract itself is
// in store_contract_test.cpp).
#include "controlplane/store/sqlite_stores.h"

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
#include "store_suite.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SqliteStoresTest : public StoresFixture, public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    stores_.reset();
    auto opened = SqliteStores::Open(path_, clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    stores_ = std::move(opened).value();
  }

  VersionStore& versions() override { return stores_->versions; }
  FleetStore& fleet() override { return stores_->fleet; }
  RolloutStore& rollouts() override { return stores_->rollouts; }
  StatsStore& stats() override { return stores_->stats; }
  HealthEventStore& health() override { return stores_->health; }

  std::filesystem::path path_ = dir_.path() / "store.db";
  std::unique_ptr<SqliteStores> stores_;
};

TEST_F(SqliteStoresTest, ErrorsNameTheFile) {
  auto got = versions().Get(7);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error().message,
              HasSubstr("config store " + stores_->path() + ": get version 7"));
}

TEST_F(SqliteStoresTest, VersionsPersistAcrossReopen) {
  std::vector<ConfigVersion> applied;
  for (const char* name : {"a", "b", "c"}) {
    applied.push_back(Apply(name));
    clock_.Advance(1s);
  }
  Reopen();

  auto history = versions().History(10, std::nullopt);
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

TEST_F(SqliteStoresTest, TheFleetStickySecretIsGeneratedOnceAndSurvivesReopen) {
  auto first = fleet().FleetStickySecret();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_THAT(first.value(), ::testing::MatchesRegex("[0-9a-f]{64}"));
  auto again = fleet().FleetStickySecret();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), first.value());
  Reopen();
  auto reopened = fleet().FleetStickySecret();
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(reopened.value(), first.value());
}

TEST_F(SqliteStoresTest, EachStoreGeneratesItsOwnFleetStickySecret) {
  auto opened = SqliteStores::Open(dir_.path() / "other.db", clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto mine = fleet().FleetStickySecret();
  auto other = opened.value()->fleet.FleetStickySecret();
  ASSERT_TRUE(mine.ok() && other.ok());
  EXPECT_NE(mine.value(), other.value());
}

TEST_F(SqliteStoresTest, NodesPersistAcrossReopen) {
  Apply("a");
  Register("proxy-1");
  ASSERT_TRUE(fleet().RecordAck("proxy-1", "clusters", 1).ok());
  ASSERT_TRUE(fleet().RecordNack("proxy-1", "routes", 1, "no such cluster").ok());
  Reopen();

  const auto nodes = Nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].node.labels.at("zone"), "a");
  EXPECT_EQ(nodes[0].types.at("clusters").acked->version, 1);
  EXPECT_EQ(nodes[0].types.at("routes").last_nack->error, "no such cluster");
}

TEST_F(SqliteStoresTest, EventsPersistAcrossReopen) {
  Record({Event("web", "a:80", false, "HTTP 503", kStart)});
  Reopen();
  EXPECT_EQ(Reasons(List("", 10)), (std::vector<std::string>{"HTTP 503"}));
  auto latest = health().LatestHealth();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->count({"web", "a:80"}), 1u);
}

TEST_F(SqliteStoresTest, SavedRunsAndRetiredCountsLoadBackAfterReopen) {
  Save({{RunRecord("p2", 7, 3, "run-7"), RunRecord("p1", 9, 1, "run-9"),
         RunRecord("p1", 4, 12, std::nullopt)},
        {{"p1", "retired-1"}}});
  Reopen();
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

TEST_F(SqliteStoresTest, OpeningAVersion2FileAddsTheStatsAndHealthTables) {
  ASSERT_TRUE(versions().Apply(SampleConfig("a"), "alice", "a").ok());
  stores_.reset();
  {
    // What a store written by a build with migrations 1 and 2 only looks like.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db,
                           "DROP TABLE stats_runs; DROP TABLE stats_retired; "
                           "DROP TABLE health_events; PRAGMA user_version = 2",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  Reopen();
  Save({{RunRecord("p1", 7, 1, "one")}, {}});
  EXPECT_EQ(Load().runs.size(), 1u);
  EXPECT_TRUE(
      health().RecordHealthEvents({{"web", "10.0.0.1:80", false, "HTTP 503", kStart}}).ok());
  EXPECT_TRUE(versions().Get(1).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), kSchemaVersion);
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

}  // namespace
}  // namespace hermes::controlplane
