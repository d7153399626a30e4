// Migrations of the config store's schema. Append new ones; never edit a shipped one.
#include "controlplane/store/schema.h"

#include <array>
#include <optional>
#include <string>

#include "controlplane/store/sqlite_handle.h"

namespace hermes::controlplane {
namespace {

// Index i takes the schema from version i to version i + 1.
constexpr std::array<const char*, kSchemaVersion> kMigrations = {
    // 1: config versions, append-only and immutable by the database's own triggers.
    R"sql(
CREATE TABLE config_versions (
  id            INTEGER PRIMARY KEY,
  parent        INTEGER REFERENCES config_versions(id),
  hash          TEXT    NOT NULL CHECK (length(hash) = 64),
  author        TEXT    NOT NULL,
  message       TEXT    NOT NULL,
  created_at_us INTEGER NOT NULL,
  config        BLOB    NOT NULL
);
-- A new version takes the next id and names the newest version as its parent. This also defeats
-- INSERT OR REPLACE, whose implicit delete fires no DELETE trigger.
CREATE TRIGGER config_versions_append_only BEFORE INSERT ON config_versions
WHEN NEW.id IS NOT (SELECT coalesce(max(id), 0) + 1 FROM config_versions)
  OR NEW.parent IS NOT (SELECT max(id) FROM config_versions)
BEGIN
  SELECT RAISE(ABORT, 'config versions are append-only: a new version takes the next id and the newest version as parent');
END;
CREATE TRIGGER config_versions_no_update BEFORE UPDATE ON config_versions
BEGIN
  SELECT RAISE(ABORT, 'config versions are immutable: UPDATE refused');
END;
CREATE TRIGGER config_versions_no_delete BEFORE DELETE ON config_versions
BEGIN
  SELECT RAISE(ABORT, 'config versions are immutable: DELETE refused');
END;
)sql",
    // 2: proxies and what each has accepted or refused, per resource type.
    R"sql(
CREATE TABLE nodes (
  id                 TEXT    NOT NULL PRIMARY KEY,
  node_group         TEXT    NOT NULL,
  address            TEXT    NOT NULL,
  connected_since_us INTEGER NOT NULL,
  last_seen_us       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE node_labels (
  node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (node_id, key)
) WITHOUT ROWID;
CREATE TABLE node_acks (
  node_id       TEXT    NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  resource_type TEXT    NOT NULL,
  version       INTEGER NOT NULL REFERENCES config_versions(id),
  acked_at_us   INTEGER NOT NULL,
  PRIMARY KEY (node_id, resource_type)
) WITHOUT ROWID;
CREATE TABLE node_nacks (
  node_id       TEXT    NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  resource_type TEXT    NOT NULL,
  version       INTEGER NOT NULL REFERENCES config_versions(id),
  error         TEXT    NOT NULL,
  nacked_at_us  INTEGER NOT NULL,
  PRIMARY KEY (node_id, resource_type)
) WITHOUT ROWID;
)sql",
    // 3: pushed stats (each proxy run's cumulative counters, see proto/README.md, "The stats
    // stream") and the health checker's transitions. Rowid tables: a stats report is a large row.
    // IF NOT EXISTS: a file whose user_version was set back finds these tables already there.
    R"sql(
CREATE TABLE IF NOT EXISTS stats_runs (
  id                INTEGER PRIMARY KEY,
  node_id           TEXT    NOT NULL,
  run_id            INTEGER NOT NULL,  -- the proxy's uint64 run id, as the int64 of the same bits
  sequence          INTEGER NOT NULL CHECK (sequence >= 0),
  started_at_us     INTEGER NOT NULL,
  last_report_at_us INTEGER NOT NULL,
  report            BLOB,              -- NULL: folded into stats_retired
  UNIQUE (node_id, run_id)
);
CREATE TABLE IF NOT EXISTS stats_retired (
  node_id TEXT NOT NULL PRIMARY KEY,
  report  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS health_events (
  id         INTEGER PRIMARY KEY,
  cluster    TEXT    NOT NULL,
  address    TEXT    NOT NULL,
  healthy    INTEGER NOT NULL CHECK (healthy IN (0, 1)),
  reason     TEXT    NOT NULL,
  at_unix_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS health_events_by_cluster ON health_events (cluster, id);
CREATE INDEX IF NOT EXISTS health_events_by_endpoint ON health_events (cluster, address, id);
)sql",
    // 4: the fleet's version apart from the newest stored one (a staged version waits for a
    // rollout), and rollouts. A file from before starts with its newest version as the fleet's.
    R"sql(
CREATE TABLE IF NOT EXISTS fleet_versions (
  id      INTEGER PRIMARY KEY,
  version INTEGER NOT NULL REFERENCES config_versions(id),
  reason  TEXT    NOT NULL,
  at_us   INTEGER NOT NULL
);
INSERT INTO fleet_versions (version, reason, at_us)
  SELECT id, 'newest version when the store was upgraded', created_at_us FROM config_versions
  WHERE id = (SELECT max(id) FROM config_versions)
    AND NOT EXISTS (SELECT 1 FROM fleet_versions);
CREATE TABLE IF NOT EXISTS rollouts (
  id      INTEGER PRIMARY KEY,
  active  INTEGER NOT NULL CHECK (active IN (0, 1)),
  rollout BLOB    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS rollouts_one_active ON rollouts (active) WHERE active = 1;
)sql",
    // 5: secrets the control plane generates for the fleet (the sticky-session key), by name;
    // apart from config_versions so that history and diff never show them.
    R"sql(
CREATE TABLE IF NOT EXISTS fleet_secrets (
  name          TEXT    NOT NULL PRIMARY KEY,
  secret        TEXT    NOT NULL,
  created_at_us INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
};

StoreError Fail(sqlite3* db, std::string_view path, std::string_view step) {
  return {StoreErrorKind::kStorage, "config store " + std::string(path) + ": migrate schema: " +
                                        std::string(step) + ": " + sqlite3_errmsg(db)};
}

StoreError Refuse(std::string_view path, std::string_view why) {
  return {StoreErrorKind::kSchema, "config store " + std::string(path) + ": " + std::string(why)};
}

// The first column of the first row of an integer query; nullopt when it fails.
std::optional<std::int64_t> ReadInteger(sqlite3* db, const char* sql) {
  sqlite::Statement statement(db, sql);
  if (statement.Step() != SQLITE_ROW) return std::nullopt;
  return statement.Int(0);
}

}  // namespace

Result<void> MigrateSchema(sqlite3* db, std::string_view path) {
  for (;;) {
    // The version is read inside the write transaction: another process opening the same file at
    // the same time sees either none or all of a migration.
    sqlite::Transaction transaction(db, sqlite::Transaction::Mode::kWrite);
    if (transaction.begin_result() != SQLITE_OK) return Fail(db, path, "begin");

    const auto read_version = ReadInteger(db, "PRAGMA user_version");
    const auto application_id = ReadInteger(db, "PRAGMA application_id");
    const auto objects = ReadInteger(db, "SELECT count(*) FROM sqlite_master");
    if (!read_version || !application_id || !objects) return Fail(db, path, "read schema version");
    const std::int64_t version = *read_version;
    if (version > kSchemaVersion) {
      return Refuse(path, "schema version " + std::to_string(version) +
                              " is newer than this build supports (" +
                              std::to_string(kSchemaVersion) +
                              "); it was written by a newer hermes-controlplane");
    }
    if (version < 0 || (*application_id != kApplicationId && (version > 0 || *objects > 0))) {
      return Refuse(path, "not a Hermes config store (an SQLite file with other content)");
    }
    if (version == kSchemaVersion) return {};

    const std::string step = "migration " + std::to_string(version + 1);
    if (sqlite::Exec(db, kMigrations[static_cast<std::size_t>(version)]) != SQLITE_OK) {
      return Fail(db, path, step);
    }
    const std::string stamp = "PRAGMA user_version = " + std::to_string(version + 1) +
                              "; PRAGMA application_id = " + std::to_string(kApplicationId);
    if (sqlite::Exec(db, stamp.c_str()) != SQLITE_OK) return Fail(db, path, step);
    if (transaction.Commit() != SQLITE_OK) return Fail(db, path, step + ": commit");
  }
}

}  // namespace hermes::controlplane
