// SqliteConfigStore's stats tables on real files: per-run records only move forward, folded runs
// stay folded, retired counts per node, and the migration that adds them to an older file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <limits>
#include <set>

#include "controlplane/store/schema.h"
#include "controlplane/store/sqlite_config_store.h"
#include "store_fixture.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const TimePoint kStart = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 12h;

StatsRunRecord RunRecord(const std::string& node, std::uint64_t run_id, std::uint64_t sequence,
                         std::optional<std::string> report) {
  // Reported `sequence` seconds after the start (any sequence: the seconds wrap at a day).
  const auto at = kStart + std::chrono::seconds(static_cast<std::int64_t>(sequence % 86400));
  return {node, run_id, sequence, kStart, at, std::move(report)};
}

class StatsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto opened = SqliteConfigStore::Open(path_, clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }

  void Save(StoredStats stats) {
    auto saved = store_->SaveStats(stats);
    ASSERT_TRUE(saved.ok()) << saved.error().message;
  }

  StoredStats Load() {
    auto loaded = store_->LoadStats();
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? *loaded : StoredStats{};
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "store.db";
  ManualClock clock_{kStart};
  std::unique_ptr<SqliteConfigStore> store_;
};

TEST_F(StatsStoreTest, AnEmptyStoreHasNoStats) {
  StoredStats stats = Load();
  EXPECT_TRUE(stats.runs.empty());
  EXPECT_TRUE(stats.retired.empty());
}

TEST_F(StatsStoreTest, SavedRunsAndRetiredCountsLoadBackAfterReopen) {
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

TEST_F(StatsStoreTest, AHigherSequenceReplacesTheRunsRecord) {
  Save({{RunRecord("p1", 7, 3, "three")}, {}});
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_EQ(stats.runs[0].report, "five");
  EXPECT_EQ(stats.runs[0].last_report_at, kStart + 5s);
}

TEST_F(StatsStoreTest, AnOlderOrEqualSequenceLeavesTheRunsRecordAsItIs) {
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  Save({{RunRecord("p1", 7, 4, "four"), RunRecord("p1", 8, 1, "other run")}, {}});
  Save({{RunRecord("p1", 7, 5, "five again")}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 2u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_EQ(stats.runs[0].report, "five");
  EXPECT_EQ(stats.runs[1].report, "other run");
}

TEST_F(StatsStoreTest, FoldingARunDropsItsReportAndKeepsItsSequence) {
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  Save({{RunRecord("p1", 7, 5, std::nullopt)}, {{"p1", "with run 7"}}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_FALSE(stats.runs[0].report.has_value());
  ASSERT_EQ(stats.retired.size(), 1u);
  EXPECT_EQ(stats.retired[0].report, "with run 7");
}

TEST_F(StatsStoreTest, AFoldedRunNeverChangesAgain) {
  Save({{RunRecord("p1", 7, 5, std::nullopt)}, {}});
  Save({{RunRecord("p1", 7, 9, "nine")}, {}});
  Save({{RunRecord("p1", 7, 10, std::nullopt)}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].sequence, 5u);
  EXPECT_FALSE(stats.runs[0].report.has_value());
}

TEST_F(StatsStoreTest, AFoldBelowTheStoredSequenceIsIgnored) {
  Save({{RunRecord("p1", 7, 5, "five")}, {}});
  Save({{RunRecord("p1", 7, 4, std::nullopt)}, {}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.runs.size(), 1u);
  EXPECT_EQ(stats.runs[0].report, "five");
}

TEST_F(StatsStoreTest, ARetiredRecordReplacesTheNodesPreviousOne) {
  Save({{}, {{"p1", "first"}, {"p2", "other"}}});
  Save({{}, {{"p1", "second"}}});
  StoredStats stats = Load();
  ASSERT_EQ(stats.retired.size(), 2u);
  EXPECT_EQ(stats.retired[0].report, "second");
  EXPECT_EQ(stats.retired[1].report, "other");
}

TEST_F(StatsStoreTest, RunIdsUseAllSixtyFourBits) {
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

TEST_F(StatsStoreTest, AnInvalidRecordRefusesTheWholeBatch) {
  auto saved =
      store_->SaveStats({{RunRecord("p1", 7, 1, "ok"), RunRecord("", 8, 1, "no node")}, {}});
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(saved.error().message, HasSubstr("empty node id"));
  EXPECT_TRUE(Load().runs.empty());
}

TEST_F(StatsStoreTest, ASequenceBeyondInt64IsRefusedNamingTheRun) {
  auto saved = store_->SaveStats(
      {{RunRecord("p1", 7, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1,
                  "x")},
       {}});
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(saved.error().message, HasSubstr("run 7 of node \"p1\""));
}

TEST_F(StatsStoreTest, OpeningAVersion2FileAddsTheStatsAndHealthTables) {
  ASSERT_TRUE(store_->Apply(SampleConfig("a"), "alice", "a").ok());
  store_.reset();
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
  EXPECT_TRUE(store_->RecordHealthEvents({{"web", "10.0.0.1:80", false, "HTTP 503", kStart}}).ok());
  EXPECT_TRUE(store_->Get(1).ok());
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
