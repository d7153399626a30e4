// The store's SQLite schema as numbered migrations, run in order when a store is opened.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string_view>

#include "controlplane/store/store_result.h"

namespace hermes::controlplane {

// The schema version this build writes (PRAGMA user_version after migrating).
inline constexpr int kSchemaVersion = 5;

// PRAGMA application_id of a Hermes store ("HRMS"), so another program's SQLite file is refused.
inline constexpr std::int32_t kApplicationId = 0x48524d53;

// Brings the file from its user_version up to kSchemaVersion, one migration per transaction.
// Refuses (kSchema) a file from a newer schema or a SQLite file that is not a Hermes store.
// `path` is only for error messages.
Result<void> MigrateSchema(sqlite3* db, std::string_view path);

}  // namespace hermes::controlplane
