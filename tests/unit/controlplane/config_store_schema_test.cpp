// The store's SQLite schema: migrations at open, refusal of files it must not touch, and the
// database's own enforcement that config versions are append-only and immutable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>
#include <utility>

#include "controlplane/store/schema.h"
#include "controlplane/store/sqlite_stores.h"
#include "store_fixture.h"

namespace hermes::controlplane {
namespace {

using ::testing::HasSubstr;

// The file opened with the plain C API, as another program (or a careless operator) would.
class RawDatabase {
 public:
  explicit RawDatabase(const std::filesystem::path& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  }
  ~RawDatabase() { sqlite3_close_v2(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  // The result code and SQLite's message.
  std::pair<int, std::string> Exec(const std::string& sql) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    return {rc, sqlite3_errmsg(db_)};
  }

  // The first column of the first row, as text ("" when there is no row).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      if (const unsigned char* text = sqlite3_column_text(statement, 0)) {
        value = reinterpret_cast<const char*>(text);
      }
    }
    sqlite3_finalize(statement);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

class ConfigStoreSchemaTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<SqliteStores>> Open() {
    return SqliteStores::Open(path_, clock_);
  }

  // Opens the store, applies one config per name, and closes it again.
  void CreateStoreWith(std::initializer_list<const char*> names) {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (const char* name : names) {
      ASSERT_TRUE((*store)->versions.Apply(SampleConfig(name), "alice", name).ok());
    }
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "store.db";
  ManualClock clock_{std::chrono::system_clock::time_point(std::chrono::hours(480000))};
};

TEST_F(ConfigStoreSchemaTest, OpenCreatesTheTablesTriggersAndSchemaVersion) {
  CreateStoreWith({});
  RawDatabase raw(path_);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(raw.Query("PRAGMA application_id"), std::to_string(kApplicationId));
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(
      raw.Query("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                "WHERE type = 'table' ORDER BY name)"),
      "config_versions,fleet_secrets,fleet_versions,health_events,node_acks,node_labels,node_nacks,"
      "nodes,rollouts,stats_retired,stats_runs");
  EXPECT_EQ(raw.Query("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                      "WHERE type = 'trigger' ORDER BY name)"),
            "config_versions_append_only,config_versions_no_delete,config_versions_no_update");
}

TEST_F(ConfigStoreSchemaTest, ReopeningLeavesTheSchemaAndDataAsTheyWere) {
  CreateStoreWith({"a", "b"});
  const std::string schema_before = RawDatabase(path_).Query(
      "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master ORDER BY name)");

  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto current = (*store)->versions.Current();
  ASSERT_TRUE(current.ok()) << current.error().message;
  ASSERT_TRUE(current->has_value());
  EXPECT_EQ((*current)->id, 2);

  RawDatabase raw(path_);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(raw.Query("SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master "
                      "ORDER BY name)"),
            schema_before);
}

TEST_F(ConfigStoreSchemaTest, OpenRunsTheMigrationsAVersion1FileLacks) {
  CreateStoreWith({"a"});
  {
    // What a store written by a build with only migration 1 looks like.
    RawDatabase raw(path_);
    ASSERT_EQ(raw.Exec("DROP TABLE node_nacks; DROP TABLE node_acks; DROP TABLE node_labels; "
                       "DROP TABLE nodes; PRAGMA user_version = 1")
                  .first,
              SQLITE_OK);
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE((*store)->fleet.UpsertNode({.id = "proxy-1"}).ok());
  EXPECT_TRUE((*store)->versions.Get(1).ok());
  EXPECT_EQ(RawDatabase(path_).Query("PRAGMA user_version"), std::to_string(kSchemaVersion));
}

TEST_F(ConfigStoreSchemaTest, AVersion3FileGetsItsNewestVersionAsTheFleets) {
  CreateStoreWith({"a", "b"});
  {
    RawDatabase raw(path_);
    ASSERT_EQ(raw.Exec("DROP TABLE rollouts; DROP TABLE fleet_versions; PRAGMA user_version = 3").first,
              SQLITE_OK);
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto history = (*store)->rollouts.FleetHistory(10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history.value().size(), 1u);
  EXPECT_EQ(history.value()[0].version, 2);
}

TEST_F(ConfigStoreSchemaTest, AVersion4FileKeepsItsVersionsAndGetsAFleetStickySecret) {
  CreateStoreWith({"a", "b"});
  {
    // What a store written before fleet secrets (schema 4) looks like.
    RawDatabase raw(path_);
    ASSERT_EQ(raw.Exec("DROP TABLE fleet_secrets; PRAGMA user_version = 4").first, SQLITE_OK);
  }
  std::string secret;
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto current = (*store)->versions.Current();
    ASSERT_TRUE(current.ok() && current->has_value());
    EXPECT_EQ((*current)->id, 2);
    auto generated = (*store)->fleet.FleetStickySecret();
    ASSERT_TRUE(generated.ok()) << generated.error().message;
    secret = generated.value();
  }
  EXPECT_EQ(RawDatabase(path_).Query("PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(
      RawDatabase(path_).Query("SELECT secret FROM fleet_secrets WHERE name = 'sticky_session'"),
      secret);
}

TEST_F(ConfigStoreSchemaTest, RefusesAFileFromANewerSchema) {
  CreateStoreWith({"a"});
  RawDatabase(path_).Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));

  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, StoreErrorKind::kSchema);
  EXPECT_THAT(store.error().message, HasSubstr(path_.string()));
  EXPECT_THAT(store.error().message,
              HasSubstr("schema version " + std::to_string(kSchemaVersion + 1) +
                        " is newer than this build supports"));
  // Refusing changed nothing.
  EXPECT_EQ(RawDatabase(path_).Query("PRAGMA user_version"), std::to_string(kSchemaVersion + 1));
}

TEST_F(ConfigStoreSchemaTest, RefusesAnotherProgramsSqliteFile) {
  RawDatabase(path_).Exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY)");

  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, StoreErrorKind::kSchema);
  EXPECT_THAT(store.error().message, HasSubstr(path_.string()));
  EXPECT_THAT(store.error().message, HasSubstr("not a Hermes config store"));
}

TEST_F(ConfigStoreSchemaTest, RefusesAFileThatIsNotADatabase) {
  std::ofstream(path_) << "listeners:\n  - address: \":8080\"\n" << std::string(4096, '#');

  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, StoreErrorKind::kStorage);
  EXPECT_THAT(store.error().message, HasSubstr(path_.string()));
  EXPECT_THAT(store.error().message, HasSubstr("not a database"));
}

TEST_F(ConfigStoreSchemaTest, AnUnwritablePathGivesAnErrorNamingThePathAndTheCause) {
  // A path under a regular file cannot be created, even by root.
  std::ofstream(dir_.path() / "file") << "x";
  const std::filesystem::path path = dir_.path() / "file" / "store.db";

  auto store = SqliteStores::Open(path, clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, StoreErrorKind::kStorage);
  EXPECT_THAT(store.error().message, HasSubstr("config store " + path.string() + ": open: "));
  EXPECT_THAT(store.error().message, HasSubstr("unable to open database file"));
  EXPECT_THAT(store.error().message, HasSubstr("Not a directory"));
}

TEST_F(ConfigStoreSchemaTest, TheDatabaseRefusesToUpdateAVersion) {
  CreateStoreWith({"a"});
  RawDatabase raw(path_);
  const auto [rc, message] = raw.Exec("UPDATE config_versions SET message = 'edited' WHERE id = 1");
  EXPECT_EQ(rc, SQLITE_CONSTRAINT);
  EXPECT_THAT(message, HasSubstr("config versions are immutable: UPDATE refused"));
  EXPECT_EQ(raw.Query("SELECT message FROM config_versions WHERE id = 1"), "a");
}

TEST_F(ConfigStoreSchemaTest, TheDatabaseRefusesToDeleteAVersion) {
  CreateStoreWith({"a", "b"});
  RawDatabase raw(path_);
  const auto [rc, message] = raw.Exec("DELETE FROM config_versions WHERE id = 2");
  EXPECT_EQ(rc, SQLITE_CONSTRAINT);
  EXPECT_THAT(message, HasSubstr("config versions are immutable: DELETE refused"));
  EXPECT_EQ(raw.Query("SELECT count(*) FROM config_versions"), "2");
}

TEST_F(ConfigStoreSchemaTest, TheDatabaseRefusesToReplaceAVersion) {
  // INSERT OR REPLACE deletes the old row without firing DELETE triggers.
  CreateStoreWith({"a"});
  RawDatabase raw(path_);
  const auto [rc, message] = raw.Exec(
      "INSERT OR REPLACE INTO config_versions VALUES "
      "(1, NULL, printf('%064d', 0), 'mallory', 'replaced', 0, x'')");
  EXPECT_EQ(rc, SQLITE_CONSTRAINT);
  EXPECT_THAT(message, HasSubstr("config versions are append-only"));
  EXPECT_EQ(raw.Query("SELECT author FROM config_versions WHERE id = 1"), "alice");
}

TEST_F(ConfigStoreSchemaTest, TheDatabaseRefusesAVersionThatDoesNotFollowTheNewest) {
  CreateStoreWith({"a", "b"});
  RawDatabase raw(path_);
  const std::string columns = "(id, parent, hash, author, message, created_at_us, config)";
  // Skips an id.
  EXPECT_EQ(raw.Exec("INSERT INTO config_versions " + columns +
                     " VALUES (4, 2, printf('%064d', 0), 'm', 'm', 0, x'')")
                .first,
            SQLITE_CONSTRAINT);
  // Names an older parent.
  EXPECT_EQ(raw.Exec("INSERT INTO config_versions " + columns +
                     " VALUES (3, 1, printf('%064d', 0), 'm', 'm', 0, x'')")
                .first,
            SQLITE_CONSTRAINT);
  EXPECT_EQ(raw.Query("SELECT count(*) FROM config_versions"), "2");
}

}  // namespace
}  // namespace hermes::controlplane
