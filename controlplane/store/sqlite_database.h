// The one SQLite connection the stores of sqlite_stores.h share: an embedded file in WAL mode
// with synchronous=FULL, migrated on open (schema.cpp), one mutex ordering every statement.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "controlplane/store/sqlite_handle.h"
#include "controlplane/store/store_result.h"
#include "controlplane/store/version_store.h"
#include "hermes/common/clock.h"

namespace hermes::controlplane {

class SqliteDatabase {
 public:
  // How long a write waits for another process holding the file's lock before failing.
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens (creating if absent) the database at `path` and migrates its schema. `clock` stamps
  // versions and node state and must outlive the database.
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::filesystem::path& path,
                                                      const Clock& clock);

  // Held around every use of handle(): the connection is opened without SQLite's own mutex.
  std::unique_lock<std::mutex> Lock() const { return std::unique_lock(mutex_); }
  sqlite3* handle() const { return db_.get(); }
  const Clock& clock() const { return clock_; }
  const std::string& path() const { return path_; }

  // "config store <path>: <operation>: <SQLite's message>"
  StoreError StorageError(std::string_view operation) const;
  StoreError Error(StoreErrorKind kind, std::string_view operation, std::string_view what) const;

  // With the lock held: kNotFound ("no version <id>") unless config_versions has the row. For the
  // stores whose rows name a version (ACKs, the fleet's version).
  Result<void> CheckVersionExists(std::string_view operation, VersionId id) const;

 private:
  SqliteDatabase(sqlite::DatabasePtr db, std::string path, const Clock& clock);

  mutable std::mutex mutex_;
  sqlite::DatabasePtr db_;
  const std::string path_;
  const Clock& clock_;
};

// Times are stored as integer microseconds (health events: milliseconds) since the Unix epoch.
std::int64_t ToUnixMicros(TimePoint t);
TimePoint FromUnixMicros(std::int64_t micros);
std::int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixMillis(std::int64_t millis);

// A row count for LIMIT: `limit` clamped to INT64_MAX.
std::int64_t SqlLimit(std::size_t limit);

// `s` in double quotes, for error messages.
std::string Quoted(std::string_view s);

}  // namespace hermes::controlplane
