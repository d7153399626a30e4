// SqliteDatabase: opening, pragmas and migration of the stores' one SQLite file.
#include "controlplane/store/sqlite_database.h"

#include <algorithm>
#include <limits>
#include <system_error>
#include <utility>

#include "controlplane/store/schema.h"

namespace hermes::controlplane {

std::int64_t ToUnixMicros(TimePoint t) {
  return std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMicros(std::int64_t micros) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

std::int64_t ToUnixMillis(TimePoint t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMillis(std::int64_t millis) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(millis)));
}

std::int64_t SqlLimit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::filesystem::path& path,
                                                             const Clock& clock) {
  const std::string where = "config store " + path.string();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DatabasePtr db(raw);  // SQLite allocates a handle even when the open fails
  auto fail = [&](std::string_view step) -> StoreError {
    std::string message = where + ": " + std::string(step) + ": ";
    message += db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
    if (const int os_error = db ? sqlite3_system_errno(db.get()) : 0; os_error != 0) {
      message += " (" + std::generic_category().message(os_error) + ")";
    }
    return {StoreErrorKind::kStorage, std::move(message)};
  };
  if (rc != SQLITE_OK) return fail("open");
  sqlite3_extended_result_codes(db.get(), 1);
  // SQLite falls back to read-only when it may not write the file; a store must write.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return StoreError{StoreErrorKind::kStorage,
                      where + ": open: the file is read-only (no write permission)"};
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  {
    // Also the first read of the file: a file that is not a database fails here.
    sqlite::Statement journal(db.get(), "PRAGMA journal_mode = WAL");
    const int step = journal.Step();
    if (step != SQLITE_ROW) return fail("set journal_mode=WAL");
    if (journal.Text(0) != "wal") {
      return StoreError{
          StoreErrorKind::kStorage,
          where + ": set journal_mode=WAL: SQLite kept journal mode \"" + journal.Text(0) + "\""};
    }
  }
  // FULL: in WAL mode a commit syncs the log, so an acknowledged Apply survives power loss, not
  // only a crash of the process.
  if (sqlite::Exec(db.get(), "PRAGMA synchronous = FULL") != SQLITE_OK) {
    return fail("set synchronous=FULL");
  }
  if (sqlite::Exec(db.get(), "PRAGMA foreign_keys = ON") != SQLITE_OK) {
    return fail("set foreign_keys=ON");
  }
  if (auto migrated = MigrateSchema(db.get(), path.string()); !migrated.ok()) {
    return migrated.error();
  }
  return std::unique_ptr<SqliteDatabase>(new SqliteDatabase(std::move(db), path.string(), clock));
}

SqliteDatabase::SqliteDatabase(sqlite::DatabasePtr db, std::string path, const Clock& clock)
    : db_(std::move(db)), path_(std::move(path)), clock_(clock) {}

StoreError SqliteDatabase::StorageError(std::string_view operation) const {
  return Error(StoreErrorKind::kStorage, operation, sqlite3_errmsg(db_.get()));
}

StoreError SqliteDatabase::Error(StoreErrorKind kind, std::string_view operation,
                                 std::string_view what) const {
  return {kind, "config store " + path_ + ": " + std::string(operation) + ": " + std::string(what)};
}

Result<void> SqliteDatabase::CheckVersionExists(std::string_view operation, VersionId id) const {
  sqlite::Statement known(db_.get(), "SELECT 1 FROM config_versions WHERE id = ?1");
  known.Bind(1, id);
  if (const int rc = known.Step(); rc == SQLITE_DONE) {
    return Error(StoreErrorKind::kNotFound, operation, "no version " + std::to_string(id));
  } else if (rc != SQLITE_ROW) {
    return StorageError(operation);
  }
  return {};
}

}  // namespace hermes::controlplane
